from wangtai.cli import main

raise SystemExit(main())
