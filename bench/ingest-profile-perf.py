"""
Groups the perf samples of bench/ingest-profile.ts (HEADSTART_PERF=1) by process, thread kind and what ran:
ONNX Runtime (its spin-wait apart), sharp/libvips, V8 (JIT code and builtins, compiler, GC), OpenSSL, llhttp,
libc, and the kernel by the call chain's system call (filesystem, loopback TCP, futex, memory, scheduler).
CPU ms per image = samples / 499 Hz / images.

    python3 bench/ingest-profile-perf.py <HEADSTART_PROFILE_DIR>

SPIN: the `pause` loop of ONNX Runtime's thread pool in onnxruntime-node 1.30.0's linux-x64
libonnxruntime.so.1 (found with objdump at the hottest sample address); another build puts it elsewhere.
"""
import json, re, subprocess, sys, collections
d = sys.argv[1]
w = json.load(open(f"{d}/window.json"))
freq = 499
SPIN = (0x18156C0, 0x18156D7)
out = subprocess.run(["perf", "script", "-i", f"{d}/perf.data", "-F", "pid,tid,ip,sym,dso"], capture_output=True, text=True).stdout
samples = []
cur = None
for line in out.splitlines():
    if not line.strip():
        if cur: samples.append(cur); cur = None
        continue
    m = re.match(r"^\s*(\d+)/(\d+)\s*$", line)
    if m:
        cur = {"pid": int(m[1]), "tid": int(m[2]), "chain": []}; continue
    m = re.match(r"^\s*(\d+)/(\d+)\s+([0-9a-f]+)\s+(.*) \((.*)\)$", line)
    if m and cur is None:
        cur = {"pid": int(m[1]), "tid": int(m[2]), "chain": [(m[3], m[4], m[5])]}; continue
    m = re.match(r"^\s+([0-9a-f]+)\s+(.*) \((.*)\)$", line)
    if m and cur is not None:
        cur["chain"].append((m[1], m[2], m[3])); continue
if cur: samples.append(cur)
empty = sum(1 for s in samples if not s["chain"])
samples = [s for s in samples if s["chain"]]
print("samples without a chain:", empty)

def kernel_cat(chain):
    names = " ".join(s for _, s, dso in chain if "kernel" in dso)
    for pat, cat in [(r"tcp_|inet_|sock_|skb|__sys_sendto|__sys_recvfrom|sys_writev|sys_read\b.*sock|net_rx|loopback|__netif", "network (loopback TCP)"),
                     (r"ext4|vfs_|path_|filename_|d_alloc|dput|__d_lookup|inode|rename|do_mkdir|do_unlinkat|openat|do_filp_open|filemap|generic_perform_write|iterate_dir|find_get_block|__brelse|jbd2|statx|fsnotify", "filesystem"),
                     (r"futex", "futex (thread wake/wait)"),
                     (r"epoll|ep_poll", "epoll"),
                     (r"page_fault|handle_mm_fault|do_anonymous|mmap|munmap|brk|madvise", "memory (page faults, mmap)"),
                     (r"schedule|finish_task_switch|__switch_to|pick_next", "scheduler")]:
        if re.search(pat, names): return "kernel: " + cat
    return "kernel: other"

def cat(s):
    ip, sym, dso = s["chain"][0]
    if "libonnxruntime" in dso:
        off = int(ip, 16)
        return "ORT (spin-wait)" if SPIN[0] <= off <= SPIN[1] else "ORT"
    if "vips" in dso or "sharp" in dso: return "sharp/libvips"
    if "kernel" in dso: return kernel_cat(s["chain"])
    if "JIT" in dso or "perf-" in dso: return "JS (JIT code)"
    if "libc" in dso:
        return "libc: " + ("malloc/free" if re.search(r"malloc|free|_int_|arena", sym) else "memcpy/memset" if re.search(r"mem(cpy|move|set|cmp)", sym) else "other")
    if "libstdc++" in dso: return "libstdc++"
    if dso.endswith("node"):
        if "compiler::" in sym or "maglev" in sym.lower() or "Turbofan" in sym or "Compile" in sym and "Builtins" not in sym: return "V8: JIT compiler"
        if re.search(r"Heap|Mark|Sweep|Scaveng|Evacuat|GC|RememberedSet|MemoryChunk|Marking|Sweeper|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|Compactor|WeakObjects|Minor|Marker|Collector", sym): return "V8: GC"
        if re.search(r"ossl_|sha256_|sha1_|md5|EVP_|HMAC|OPENSSL|CRYPTO_|SHA\d|_block_data_order|aesni|BN_|bn_", sym): return "OpenSSL (SHA-256, MD5, HMAC)"
        if "llhttp" in sym: return "llhttp (HTTP parser)"
        if re.search(r"^Builtins_|^v8::|^Runtime_|^v8_|^LoadIC|^\[unknown\]", sym): return "JS (V8 builtins, ICs, runtime)"
        if re.search(r"node::|uv_|napi", sym): return "node/libuv C++"
        return "node: other"
    return dso.split("/")[-1]

# which bench tids are ORT threads
by_tid = collections.defaultdict(collections.Counter)
for s in samples: by_tid[(s["pid"], s["tid"])][cat(s)] += 1
def thread_kind(pid, tid):
    c = by_tid[(pid, tid)]
    if tid == pid: return "main thread"
    if sum(v for k, v in c.items() if k.startswith("ORT")) > 0.5 * sum(c.values()): return "ORT threads"
    return "other threads (libuv pool, V8 GC/compiler, sharp)"
table = collections.defaultdict(collections.Counter)
for s in samples:
    proc = "bench" if s["pid"] == w["benchPid"] else "s3" if s["pid"] == w["s3Pid"] else str(s["pid"])
    table[(proc, thread_kind(s["pid"], s["tid"]))][cat(s)] += 1
ms = lambda n: n * 1000 / freq / w["images"]
total = len(samples)
print(f"samples {total} = {ms(total):.1f} CPU ms/img (perf at {freq} Hz); /proc says {w['pass']['cpuMs']/w['images']:.1f}")
for key in sorted(table, key=lambda k: -sum(table[k].values())):
    c = table[key]
    print(f"\n{key[0]} / {key[1]}: {ms(sum(c.values())):.2f} ms/img")
    for k, v in c.most_common(14): print(f"   {k:45s} {ms(v):6.2f}")
allc = collections.Counter()
for c in table.values(): allc.update(c)
print("\nall:")
for k, v in allc.most_common(30): print(f"   {k:45s} {ms(v):6.2f}")
