"""``python -m journeylib`` is the ``journey`` command."""

from journeylib.cli import console_main

if __name__ == "__main__":
    console_main()
