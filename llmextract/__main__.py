from llmextract.cli import app

app(prog_name="llmextract")
