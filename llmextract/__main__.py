from llmextract.cli import main

main()
