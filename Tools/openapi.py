#!/usr/bin/env python3
"""Writes Sources/LedgerServer/OpenAPIDocument.swift from docs/openapi.yaml (the API's source).

`ledger serve` serves the document compiled into it; a test checks that docs/openapi.yaml and the
served document are byte-identical and that the document lists exactly the server's routes. Run
this after editing docs/openapi.yaml:  python3 Tools/openapi.py
"""
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
doc = (root / "docs" / "openapi.yaml").read_text(encoding="utf-8")
if '"""#' in doc:
    raise SystemExit('docs/openapi.yaml must not contain """#')
body = "\n".join(("        " + line) if line else "" for line in doc.split("\n"))
swift = (
    "/// The OpenAPI 3.1 document of `ledger serve`, served at /openapi.yaml. Generated from\n"
    "/// docs/openapi.yaml by Tools/openapi.py; a test checks that the two are equal and that the\n"
    "/// document lists exactly the server's routes.\n"
    "enum OpenAPIDocument {\n"
    '    static let yaml = #"""\n' + body + '\n        """#\n}\n'
)
(root / "Sources" / "LedgerServer" / "OpenAPIDocument.swift").write_text(swift, encoding="utf-8")
