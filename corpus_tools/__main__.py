from corpus_tools.cli import main

raise SystemExit(main())
