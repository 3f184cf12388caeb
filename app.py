"""Start the paperlens app: `python app.py` (http://127.0.0.1:7860)."""

from assistant.webapp import main

if __name__ == "__main__":
    main()
