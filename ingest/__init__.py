"""Sources -> papers and sections: digests (text, Markdown, HTML), arXiv, PDFs."""
