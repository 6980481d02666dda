"""`python -m kiosk_app`: the same as the `kiosk-app` command."""

from kiosk_app.cli import main

if __name__ == "__main__":
    main(prog_name="kiosk-app")
