"""Checks the charts of a modelgate HTML report as Chromium drew them.

    chart_check.py probe REPORT.html OUT.html
        writes a copy of the report with a script that, once the page has
        loaded, records where each <img class="chart"> lies (and its natural
        size) in a data-probe attribute of <body>, for --dump-dom.
    chart_check.py check DOM.html SCREENSHOT.png EXPECT.json
        reads that record from Chromium's dumped DOM and checks each chart's
        region of the screenshot of the unchanged report against EXPECT.json:
        [{"alt": substring of the chart's alt text (or a list of them: one
          chart each, alike in the rest), "min_size": [w, h],
          "colors": [{"rgb": "#rrggbb", "box": [x0, y0, x1, y1] (fractions
          of the chart), "min_px": n}]}], in page order.

Every chart must be decoded (a natural size), drawn at a sane size inside the
page at its own aspect ratio, overlap no other chart, and not be blank (a
share of non-white pixels and enough distinct colours); each expected colour
(a legend swatch, a colour scale) must appear, within a tolerance for
anti-aliasing, in its box. Prints one line per chart; exits 1 naming the
first chart and expectation that fails.
"""
import html
import json
import re
import sys

PROBE = """<script>
window.addEventListener('load', function () {
  var charts = [];
  document.querySelectorAll('img.chart').forEach(function (e) {
    var r = e.getBoundingClientRect();
    charts.push({alt: e.alt, x: r.left + window.scrollX, y: r.top + window.scrollY,
                 w: r.width, h: r.height, nw: e.naturalWidth, nh: e.naturalHeight});
  });
  document.body.setAttribute('data-probe', JSON.stringify({charts: charts,
    width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight}));
});
</script>
"""


def probe(src, dst):
    page = open(src, encoding="utf-8").read()
    assert page.count("</body>") == 1, "the report has no single </body>"
    open(dst, "w", encoding="utf-8").write(page.replace("</body>", PROBE + "</body>"))


def rgb(s):
    return tuple(int(s[i:i + 2], 16) for i in (1, 3, 5))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(dom_path, png_path, expect_path):
    from PIL import Image  # Debian's python3-pil

    dom = open(dom_path, encoding="utf-8").read()
    m = re.search(r'data-probe="([^"]*)"', dom)
    if not m:
        fail("the dumped DOM has no data-probe: the page did not finish loading")
    rec = json.loads(html.unescape(m.group(1)))
    expect = []
    for e in json.load(open(expect_path)):
        for alt in e["alt"] if isinstance(e["alt"], list) else [e["alt"]]:
            expect.append(dict(e, alt=alt))
    charts = rec["charts"]
    if len(charts) != len(expect):
        fail("%d charts drawn, %d expected: %s" % (len(charts), len(expect), [c["alt"] for c in charts]))
    img = Image.open(png_path).convert("RGB")
    if img.size[1] < rec["height"] - 2:
        fail("the screenshot (%dx%d) is shorter than the page (%d)" % (img.size + (rec["height"],)))
    boxes = []
    for c, e in zip(charts, expect):
        name = c["alt"]
        if e["alt"] not in name:
            fail("chart '%s' where one with '%s' was expected" % (name, e["alt"]))
        if not (c["nw"] > 0 and c["nh"] > 0):
            fail("chart '%s' was not decoded (natural size %sx%s)" % (name, c["nw"], c["nh"]))
        w, h = c["w"], c["h"]
        if w < e["min_size"][0] or h < e["min_size"][1]:
            fail("chart '%s' is drawn %.0fx%.0f, smaller than %s" % (name, w, h, e["min_size"]))
        if c["x"] < 0 or c["x"] + w > rec["width"] + 1 or c["y"] + h > rec["height"] + 1:
            fail("chart '%s' lies outside the page" % name)
        if abs(w / h - c["nw"] / c["nh"]) > 0.02 * (c["nw"] / c["nh"]):
            fail("chart '%s' is distorted: %.0fx%.0f drawn, %dx%d natural" % (name, w, h, c["nw"], c["nh"]))
        box = (round(c["x"]), round(c["y"]), round(c["x"] + w), round(c["y"] + h))
        for other in boxes:
            if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                fail("chart '%s' overlaps another chart" % name)
        boxes.append(box)
        region = img.crop(box)
        px = list(region.getdata())
        ink = sum(1 for p in px if min(p) < 235) / len(px)
        colours = len(set(px))
        if ink < 0.01 or colours < 16:
            fail("chart '%s' looks blank: %.3f of it drawn, %d colours" % (name, ink, colours))
        for want in e.get("colors", []):
            target = rgb(want["rgb"])
            x0, y0, x1, y1 = want["box"]
            sub = region.crop((int(x0 * region.size[0]), int(y0 * region.size[1]),
                               int(x1 * region.size[0]) or 1, int(y1 * region.size[1]) or 1))
            near = sum(1 for p in sub.getdata() if max(abs(a - b) for a, b in zip(p, target)) <= 12)
            if near < want.get("min_px", 20):
                fail("chart '%s': %d pixels of %s in %s, fewer than %d (its legend or scale is missing)"
                     % (name, near, want["rgb"], want["box"], want.get("min_px", 20)))
        print("ok %s: %.0fx%.0f at (%.0f, %.0f), %.3f drawn, %d colours" % (name, w, h, c["x"], c["y"], ink, colours))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "probe":
        probe(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
