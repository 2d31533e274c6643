from msgconform.cli import main

raise SystemExit(main())
