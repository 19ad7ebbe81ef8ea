#!/usr/bin/env python3
"""Puts a section into bench/RESULTS.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->`,
replacing the one an earlier run wrote (bench/run.sh keeps these sections when it rewrites the
rest), or appending it.

    python3 bench/keep_section.py RESULTS.md NAME SECTION_FILE   (the file holds both markers)
"""

import re
import sys

results, name, section = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
try:
    text = open(results).read()
except FileNotFoundError:
    text = ""
pattern = re.compile(rf"<!-- {name}:begin -->.*?<!-- {name}:end -->\n", flags=re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text += "\n" + section
open(results, "w").write(text)
