#!/usr/bin/env python3
"""Every interface, method, signal and property of the D-Bus API has a doc
comment right before it, and every argument is described in its member's
comment as "@name:". Prints TAP, one point per member."""
import sys
import xml.dom.minidom

count = failed = 0


def point(ok, desc):
    global count, failed
    count += 1
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {count} - {desc}")


def doc_before(node):
    sib = node.previousSibling
    while sib is not None and sib.nodeType == sib.TEXT_NODE and not sib.data.strip():
        sib = sib.previousSibling
    return sib.data if sib is not None and sib.nodeType == sib.COMMENT_NODE else None


for path in sys.argv[1:]:
    dom = xml.dom.minidom.parse(path)
    for iface in dom.getElementsByTagName("interface"):
        iname = iface.getAttribute("name")
        doc = doc_before(iface)
        point(doc is not None and iname in doc, f"{iname} is documented")
        for kind in ("method", "signal", "property"):
            for member in iface.getElementsByTagName(kind):
                name = member.getAttribute("name")
                doc = doc_before(member) or ""
                missing = [a.getAttribute("name") for a in member.getElementsByTagName("arg")
                           if f"@{a.getAttribute('name')}:" not in doc]
                ok = doc.strip().startswith(f"{name}:") and not missing and len(doc.split("\n")) > 2
                point(ok, f"{iname}.{name} ({kind}) is documented"
                      + (f" (arguments without a description: {', '.join(missing)})" if missing else ""))
print(f"1..{count}")
sys.exit(1 if failed else 0)
