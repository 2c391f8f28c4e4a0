"""``python -m secretsync`` runs the CLI."""

from secretsync.cli import main

if __name__ == "__main__":
    main()
