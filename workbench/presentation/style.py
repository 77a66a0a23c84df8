"""The house stylesheet every HTML page shares: the client report, person pages, the explorer.

:data:`BASE_CSS` holds the palette, type, header, tables and the A4 print basics once; each
page adds only its own layout rules after it (later rules win), so a colour or font is changed
here for every page a client or a manager reads.

Examples
--------
>>> "#1f3a5f" in BASE_CSS and "@page" in BASE_CSS
True
"""

from __future__ import annotations

__all__ = ["BASE_CSS"]

BASE_CSS = """
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2933; margin: 0;
       background: #f5f7fa; line-height: 1.5; }
header { background: #1f3a5f; color: white; }
header h1 { margin: 0 0 .3rem; color: white; }
h1, h2, h3 { color: #1f3a5f; }
main { margin: 0 auto; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border: none; border-bottom: 1px solid #e4e7eb; padding: .3rem .7rem; }
th { background: #f0f4f8; }
footer { color: #616e7c; font-size: .8rem; text-align: center; padding: 1rem; }
/* A manager prints these pages: no backgrounds or shadows, A4 margins, no split tables. */
@page { size: A4; }
@media print {
  body { background: white; font-size: 10.5pt; }
  header { background: none; color: #1f3a5f; }
  header h1 { color: #1f3a5f; }
  main { max-width: none; padding: 0; }
  table { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  footer { display: none; }
}
"""
