"""Start the paperlens app: `python app.py` (http://127.0.0.1:7860)."""

import sys

from paperlens.assistant.webapp import main
from paperlens.ingest.errors import PaperlensError

if __name__ == "__main__":
    try:
        main()
    except PaperlensError as exc:  # an unsafe or broken configuration: one line
        sys.exit(f"error: {exc}")
