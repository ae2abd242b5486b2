# Solved when hello.txt holds the word hello, give or take white space.
[ "$(tr -d '[:space:]' < hello.txt)" = hello ]
