#!/usr/bin/env python3
"""Times `layerwaste explore IMAGE` to its first frame in a real pseudo-terminal, and its
peak RSS, against `layerwaste analyze IMAGE --format json` (scripts/bench.sh calls this).

Usage: explore-first-frame.py BIN IMAGE [RUNS]   prints TSV: tool, wall seconds, peak KB
"""
import fcntl, os, pty, select, struct, subprocess, sys, termios, time, tempfile, statistics

def explore(bin_, image):
    out = tempfile.mktemp()
    pid, fd = pty.fork()
    if pid == 0:
        # A pty starts at 0x0; give it a real screen.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "40"
        os.execv("/usr/bin/time", ["/usr/bin/time", "-f", "%M", "-o", out, bin_, "explore", image, "--quiet"])
    start = time.monotonic()
    seen, frame_at = b"", None
    while True:
        r, _, _ = select.select([fd], [], [], 60)
        if not r:
            raise SystemExit("no frame in 60 s")
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        # The status line closes the first frame.
        if frame_at is None and b"q quit" in seen:
            frame_at = time.monotonic() - start
            os.write(fd, b"q")
    os.waitpid(pid, 0)
    with open(out) as f:
        rss = int(f.read().strip().splitlines()[-1])
    os.unlink(out)
    return frame_at, rss

def analyze(bin_, image):
    out = tempfile.mktemp()
    start = time.monotonic()
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, bin_, "analyze", image, "--format", "json", "--quiet"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.monotonic() - start
    with open(out) as f:
        rss = int(f.read().strip().splitlines()[-1])
    os.unlink(out)
    return wall, rss

def main():
    bin_, image = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    rows = {"analyze-json": [], "explore-first-frame": []}
    for _ in range(runs):
        rows["analyze-json"].append(analyze(bin_, image))
        rows["explore-first-frame"].append(explore(bin_, image))
    for tool, samples in rows.items():
        wall = statistics.median(s[0] for s in samples)
        rss = statistics.median(s[1] for s in samples)
        print(f"{tool}\t{wall:.3f}\t{rss}")
    a = statistics.median(s[0] for s in rows["analyze-json"])
    e = statistics.median(s[0] for s in rows["explore-first-frame"])
    ar = statistics.median(s[1] for s in rows["analyze-json"])
    er = statistics.median(s[1] for s in rows["explore-first-frame"])
    print(f"ratio\t{e / a:.2f}\t{er / ar:.2f}")

main()
