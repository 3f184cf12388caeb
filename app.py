"""Start the paperlens app: `python app.py` (http://127.0.0.1:7860)."""

import sys

from pydantic import ValidationError

from paperlens.assistant.webapp import main
from paperlens.ingest.config import describe_invalid
from paperlens.ingest.errors import PaperlensError

if __name__ == "__main__":
    try:
        main()
    except PaperlensError as exc:  # an unsafe or broken configuration: one line
        sys.exit(f"error: {exc}")
    except ValidationError as exc:  # a PAPERLENS_* variable or config file entry
        sys.exit(f"error: {describe_invalid(exc)}")
