"""``zoo new-plugin``: write a working skeleton of a third-party variant plugin."""

from __future__ import annotations

import argparse

from zoo.scaffold import ScaffoldError, new_plugin, plugin_names, taken


def cmd_new_plugin(args: argparse.Namespace) -> int:
    names = plugin_names(args.name, args.variant)
    clashes = taken(names)
    if clashes:
        raise ScaffoldError(f"{args.name!r} clashes with what is installed: {'; '.join(clashes)}. "
                            "Choose another name (or --variant)")
    target = new_plugin(args.name, args.dir, variant=args.variant)
    print(f"wrote {target}/: distribution {names.distribution}, package {names.package} "
          f"(src/{names.package}/), variant {names.variant!r}")
    print("next:")
    print(f"  cd {target}")
    print('  pip install -e ".[test]"   # then `zoo list` shows the variant')
    print("  pytest                     # zoo's conformance kit, through its pytest fixtures")
    print(f"  zoo train {names.variant} --dataset mnist --preset smoke --out runs/try")
    return 0


def add_new_plugin(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "new-plugin", help="write the skeleton of a new variant plugin (a working Gaussian VAE)",
        description="Write DIR/zoo-NAME: a pip-installable plugin (distribution zoo-NAME, "
        "package zoo_NAME) registering one variant, with tests that run zoo's conformance kit. "
        "Never overwrites: an existing directory is an error.")
    p.add_argument("name", help="short name: lowercase words joined by '-', e.g. 'demo' "
                   "(distribution zoo-demo, package zoo_demo)")
    p.add_argument("--dir", default=".",
                   help="directory to create zoo-NAME in, made if missing (default: .)")
    p.add_argument("--variant", help="registry name of the variant (default: NAME)")
    p.set_defaults(func=cmd_new_plugin)
