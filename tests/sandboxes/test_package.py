import subprocess
import sys

import hgm.sandboxes


def test_every_public_name_resolves_to_its_home_module():
    for name in hgm.sandboxes.__all__:
        value = getattr(hgm.sandboxes, name)
        assert getattr(sys.modules[value.__module__], name) is value


def test_a_light_submodule_loads_without_the_backends():
    """The package imports its public names on first use, so the command line's start-up pays only for what it uses."""
    code = (
        "import sys; import hgm.sandboxes.base, hgm.sandboxes.owner\n"
        "print(sorted(m for m in ('hgm.sandboxes.registry', 'hgm.sandboxes.cgroups', 'hgm.sandboxes.config',"
        " 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
