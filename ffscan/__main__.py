from ffscan.cli import main

raise SystemExit(main())
