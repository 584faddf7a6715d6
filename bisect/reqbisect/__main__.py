from __future__ import annotations

from reqbisect.cli import main

main(prog_name="reqbisect")
