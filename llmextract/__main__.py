"""``python -m llmextract``: the command line, ending quietly when Ctrl-C comes as it starts."""

import sys


def run() -> None:
    """Load the command line and run it."""
    try:
        from llmextract.cli import main
    except KeyboardInterrupt:
        # Loading takes a moment (the model client's libraries): an interrupt then ends the
        # run like an interrupted command, with one line instead of a traceback.
        print("llmextract: interrupted while starting; nothing was done", file=sys.stderr)
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
