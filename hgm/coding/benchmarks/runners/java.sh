# Compiles an exercise's main and test sources and runs them with JUnit's console launcher, from Debian's junit5
# and assertj packages (gradle would need a registry). Exit status: 0 only when every test passed.
set -eu
classes=/tmp/hgm-java-classes
cp=/usr/share/java/junit-platform-console-standalone.jar:/usr/share/java/assertj-core.jar:/usr/share/java/byte-buddy.jar
rm -rf "$classes"
mkdir -p "$classes"
find src -name '*.java' > /tmp/hgm-java-sources
javac -encoding UTF-8 -nowarn -d "$classes" -cp "$cp" @/tmp/hgm-java-sources
exec java -jar /usr/share/java/junit-platform-console-standalone.jar --class-path "$classes:$cp" --scan-class-path \
    --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii --fail-if-no-tests
