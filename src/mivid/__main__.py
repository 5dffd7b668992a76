"""`python -m mivid`."""

from mivid.cli import main

if __name__ == "__main__":
    main()
