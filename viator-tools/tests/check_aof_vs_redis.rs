//! viator-check-aof against Debian's redis-check-aof on the same files:
//! multi-part AOF directories that a real redis-server wrote (an RDB base
//! and a RESP base, incremental files with MULTI/EXEC and `#TS:`
//! annotations), the same content as old-style files, cut at every few
//! bytes, with a bad byte, fixed with `y` and `N`, truncated to each
//! timestamp, manifests that are wrong or name missing files, and bad
//! arguments. Standard output, exit status and the files left behind must
//! be identical, but for what Redis 8 changed since Debian's 7.0 (see
//! [`normalize`]). `#[ignore]`d: needs redis-server, redis-cli and
//! redis-check-aof on `PATH`; `.ci/run` runs it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One run: files to lay out, arguments (paths relative to the case's
/// directory), what to answer on standard input.
struct Case {
    name: String,
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
    stdin: &'static str,
}

fn case(
    name: impl Into<String>,
    files: Vec<(String, Vec<u8>)>,
    args: &[&str],
    stdin: &'static str,
) -> Case {
    Case {
        name: name.into(),
        files,
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cli(port: u16, script: &str) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli on PATH");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A redis-server's `appendonlydir` after writes in three seconds (so
/// that there are several `#TS:` annotations), a rewrite between them, and
/// SHUTDOWN.
fn redis_aof_dir(root: &Path, preamble: bool) -> PathBuf {
    let dir = root.join(if preamble { "redis-rdb" } else { "redis-resp" });
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "yes", "--appendfsync", "always"])
        .args(["--aof-timestamp-enabled", "yes"])
        .args([
            "--aof-use-rdb-preamble",
            if preamble { "yes" } else { "no" },
        ])
        .args(["--dir", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH");
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "redis-server started");
    cli(
        port,
        "SET a 1\nRPUSH l x y z\nHSET h f v\nSET e x PX 100000000\nMULTI\nSET t 1\nINCR t\nEXEC\n",
    );
    cli(port, "BGREWRITEAOF\n");
    let rewritten = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        let info = cli(port, "INFO persistence\n");
        info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
    });
    assert!(rewritten, "rewrite done");
    std::thread::sleep(Duration::from_millis(1100));
    cli(
        port,
        "SET b 2\nMULTI\nSADD s m n\nZADD z 1 a\nEXEC\nSET \"bin key\" \"a\\r\\nb\"\n",
    );
    std::thread::sleep(Duration::from_millis(1100));
    cli(port, "DEL a\nAPPEND b xyz\nSELECT 3\nSET d e\nSHUTDOWN\n");
    let _ = server.wait();
    dir.join("appendonlydir")
}

fn read_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (
                format!("appendonlydir/{name}"),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Redis 8's report where it differs from Debian's 7.0, brought to one
/// form: the RDB checker's `subexpires` line (new), the name it checks
/// (7.0 shows the file's name, 8 its path), the names of newer types, and
/// the time stamp and pid of log lines. And one byte that no build
/// prints reliably: for a number cut by the end of the file, redis-check-aof
/// shows the byte after its line buffer's terminator (`got: 00..`), which
/// is whatever an earlier call left on the stack.
fn normalize(text: &str) -> String {
    text.lines()
        .filter(|l| !l.ends_with(" subexpires"))
        .map(|l| {
            if let Some(i) = l.find(": Expected \\r\\n, got: 00") {
                return format!("{}: Expected \\r\\n, got: 00<stack>\n", &l[..i]);
            }
            if let Some(i) = l.find("] Checking RDB file ") {
                let name = &l[i + 20..];
                let base = name.rsplit('/').next().unwrap_or(name);
                return format!("{}] Checking RDB file {base}\n", &l[..i]);
            }
            if l.starts_with("[additional info] Reading type") {
                if let Some(i) = l.find(" (") {
                    return format!("{}\n", &l[..i]);
                }
            }
            // "PID:C DD Mon YYYY HH:MM:SS.mmm # message"
            if let Some((pid, rest)) = l.split_once(":C ") {
                if !pid.is_empty() && pid.bytes().all(|c| c.is_ascii_digit()) {
                    if let Some(i) = rest.find(" # ") {
                        return format!("<log>{}\n", &rest[i..]);
                    }
                }
            }
            format!("{l}\n")
        })
        .collect()
}

/// Runs `tool` on the case in a fresh directory: its report, exit status
/// and the files it left.
fn run(tool: &str, c: &Case, dir: &Path) -> (String, i32, Vec<(String, Vec<u8>)>) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("appendonlydir")).unwrap();
    for (name, bytes) in &c.files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let mut child = Command::new(tool)
        .arg0("redis-check-aof")
        .args(&c.args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tool runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(c.stdin.as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    let mut left = read_dir(&dir.join("appendonlydir"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            let name = entry.file_name().into_string().unwrap();
            left.push((name, std::fs::read(entry.path()).unwrap()));
        }
    }
    left.sort();
    let text = normalize(&String::from_utf8_lossy(&out.stdout));
    (text, out.status.code().unwrap_or(-1), left)
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// The `#TS:` values of a file.
fn timestamps(aof: &[u8]) -> Vec<i64> {
    aof.split(|&c| c == b'\n')
        .filter_map(|l| l.strip_prefix(b"#TS:"))
        .filter_map(|t| std::str::from_utf8(t).ok()?.trim_end().parse().ok())
        .collect()
}

fn file(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    (name.to_string(), bytes.to_vec())
}

fn cases(rdb_dir: &[(String, Vec<u8>)], resp_dir: &[(String, Vec<u8>)]) -> Vec<Case> {
    let get = |files: &[(String, Vec<u8>)], suffix: &str| -> (String, Vec<u8>) {
        files
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "no {suffix} in {:?}",
                    files.iter().map(|f| &f.0).collect::<Vec<_>>()
                )
            })
    };
    let (rdb_base_name, rdb_base) = get(rdb_dir, ".base.rdb");
    let (rdb_incr_name, rdb_incr) = get(rdb_dir, ".incr.aof");
    let (resp_base_name, resp_base) = get(resp_dir, ".base.aof");
    let (resp_incr_name, _) = get(resp_dir, ".incr.aof");
    let (manifest_name, manifest) = get(rdb_dir, ".manifest");
    let manifest_arg = manifest_name.as_str();
    let mut cases = Vec::new();

    // Whole directories, and each file alone as an old-style AOF.
    cases.push(case("rdb dir", rdb_dir.to_vec(), &[manifest_arg], ""));
    cases.push(case(
        "resp dir",
        resp_dir.to_vec(),
        &[&get(resp_dir, ".manifest").0],
        "",
    ));
    let old = [rdb_base.clone(), rdb_incr.clone()].concat();
    let aof = rdb_incr.clone();
    cases.push(case(
        "preamble file",
        vec![file("a.aof", &old)],
        &["a.aof"],
        "",
    ));
    cases.push(case("resp file", vec![file("a.aof", &aof)], &["a.aof"], ""));
    cases.push(case(
        "resp base file",
        vec![file("b.aof", &resp_base)],
        &["b.aof"],
        "",
    ));
    cases.push(case(
        "rdb base alone",
        vec![file("b.rdb", &rdb_base)],
        &["b.rdb"],
        "",
    ));

    // Old-style files cut everywhere.
    for cut in 0..aof.len() {
        cases.push(case(
            format!("resp cut at {cut}"),
            vec![file("a.aof", &aof[..cut])],
            &["a.aof"],
            "",
        ));
    }
    for cut in (0..old.len()).step_by(5) {
        cases.push(case(
            format!("preamble cut at {cut}"),
            vec![file("a.aof", &old[..cut])],
            &["a.aof"],
            "",
        ));
    }
    for cut in (0..resp_base.len()).step_by(3) {
        cases.push(case(
            format!("resp base cut at {cut}"),
            vec![file("b.aof", &resp_base[..cut])],
            &["b.aof"],
            "",
        ));
    }
    // A bad byte anywhere.
    for at in (0..aof.len()).step_by(2) {
        for bad in [b'x', b'\n', 0xe9] {
            let mut flipped = aof.clone();
            flipped[at] = bad;
            cases.push(case(
                format!("resp byte {at} = {bad:#x}"),
                vec![file("a.aof", &flipped)],
                &["a.aof"],
                "",
            ));
        }
    }
    // --fix, answered yes, no, or not at all.
    for cut in (1..aof.len()).step_by(7) {
        for answer in ["y\n", "Y", "N\n", "", "yes\n", "n"] {
            cases.push(case(
                format!("resp cut at {cut}, --fix {answer:?}"),
                vec![file("a.aof", &aof[..cut])],
                &["--fix", "a.aof"],
                answer,
            ));
        }
    }
    for cut in (rdb_base.len()..old.len()).step_by(9) {
        cases.push(case(
            format!("preamble cut at {cut}, --fix"),
            vec![file("a.aof", &old[..cut])],
            &["--fix", "a.aof"],
            "y\n",
        ));
    }
    // --truncate-to-timestamp around each annotation.
    let stamps = timestamps(&aof);
    assert!(
        stamps.len() >= 2,
        "annotations in {:?}",
        String::from_utf8_lossy(&aof)
    );
    let mut tries: Vec<i64> = vec![-1, 1, i64::MAX];
    for &ts in &stamps {
        tries.extend([ts - 1, ts, ts + 1]);
    }
    for ts in tries {
        let ts = ts.to_string();
        cases.push(case(
            format!("resp to {ts}"),
            vec![file("a.aof", &aof)],
            &["--truncate-to-timestamp", &ts, "a.aof"],
            "",
        ));
        cases.push(case(
            format!("preamble to {ts}"),
            vec![file("a.aof", &old)],
            &["--truncate-to-timestamp", &ts, "a.aof"],
            "",
        ));
        cases.push(case(
            format!("rdb dir to {ts}"),
            rdb_dir.to_vec(),
            &["--truncate-to-timestamp", &ts, manifest_arg],
            "",
        ));
        let cut = aof.len() - 3;
        cases.push(case(
            format!("resp cut at {cut} to {ts}"),
            vec![file("a.aof", &aof[..cut])],
            &["--truncate-to-timestamp", &ts, "a.aof"],
            "",
        ));
    }
    for ts in ["", "12x", "99999999999999999999", " 5", "+7", "-0"] {
        cases.push(case(
            format!("timestamp {ts:?}"),
            vec![file("a.aof", &aof)],
            &["--truncate-to-timestamp", ts, "a.aof"],
            "",
        ));
    }
    let mut stamped = resp(&["SET", "k", "v"]);
    stamped.extend_from_slice(b"#TS:12x\r\n");
    stamped.extend(resp(&["SET", "k", "w"]));
    cases.push(case(
        "bad annotation",
        vec![file("a.aof", &stamped)],
        &["--truncate-to-timestamp", "5", "a.aof"],
        "",
    ));
    cases.push(case(
        "bad annotation unchecked",
        vec![file("a.aof", &stamped)],
        &["a.aof"],
        "",
    ));

    // Multi-part: the last file cut, fixed or not; an earlier file cut.
    let with =
        |replace: &str, bytes: &[u8], base: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
            base.iter()
                .map(|(n, b)| {
                    if n == replace {
                        (n.clone(), bytes.to_vec())
                    } else {
                        (n.clone(), b.clone())
                    }
                })
                .collect()
        };
    for cut in (0..rdb_incr.len()).step_by(3) {
        let files = with(&rdb_incr_name, &rdb_incr[..cut], rdb_dir);
        cases.push(case(
            format!("rdb dir incr cut at {cut}"),
            files.clone(),
            &[manifest_arg],
            "",
        ));
        if cut % 4 == 0 {
            cases.push(case(
                format!("rdb dir incr cut at {cut}, --fix"),
                files,
                &["--fix", manifest_arg],
                "y\n",
            ));
        }
    }
    for cut in (0..rdb_base.len()).step_by(6) {
        let files = with(&rdb_base_name, &rdb_base[..cut], rdb_dir);
        cases.push(case(
            format!("rdb dir base cut at {cut}"),
            files,
            &[manifest_arg],
            "",
        ));
    }
    let resp_manifest = get(resp_dir, ".manifest").0;
    for cut in (0..resp_base.len()).step_by(4) {
        let files = with(&resp_base_name, &resp_base[..cut], resp_dir);
        cases.push(case(
            format!("resp dir base cut at {cut}"),
            files.clone(),
            &[&resp_manifest],
            "",
        ));
        cases.push(case(
            format!("resp dir base cut at {cut}, --fix"),
            files,
            &["--fix", &resp_manifest],
            "y\n",
        ));
    }
    for at in (0..rdb_incr.len()).step_by(5) {
        let mut flipped = rdb_incr.clone();
        flipped[at] = b'?';
        let files = with(&rdb_incr_name, &flipped, rdb_dir);
        cases.push(case(
            format!("rdb dir incr byte {at}"),
            files,
            &[manifest_arg],
            "",
        ));
    }

    // Manifests: missing and empty files, bad lines, other layouts.
    let without = |gone: &str, base: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        base.iter().filter(|(n, _)| n != gone).cloned().collect()
    };
    cases.push(case(
        "missing base",
        without(&rdb_base_name, rdb_dir),
        &[manifest_arg],
        "",
    ));
    cases.push(case(
        "missing incr",
        without(&rdb_incr_name, rdb_dir),
        &[manifest_arg],
        "",
    ));
    cases.push(case(
        "missing resp base",
        without(&resp_base_name, resp_dir),
        &[&resp_manifest],
        "",
    ));
    cases.push(case(
        "empty incr",
        with(&rdb_incr_name, b"", rdb_dir),
        &[manifest_arg],
        "",
    ));
    cases.push(case(
        "empty base",
        with(&rdb_base_name, b"", rdb_dir),
        &[manifest_arg],
        "",
    ));
    cases.push(case(
        "missing resp incr",
        without(&resp_incr_name, resp_dir),
        &[&resp_manifest],
        "",
    ));
    let text = String::from_utf8(manifest.clone()).unwrap();
    let base_line = text
        .lines()
        .find(|l| l.contains("type b"))
        .unwrap()
        .to_string();
    let incr_line = text
        .lines()
        .find(|l| l.contains("type i"))
        .unwrap()
        .to_string();
    let incr2 = "appendonly.aof.9.incr.aof";
    let manifests: Vec<(&str, String)> = vec![
        ("base only", format!("{base_line}\n")),
        ("incr only", format!("{incr_line}\n")),
        (
            "history only",
            "file appendonly.aof.1.incr.aof seq 1 type h\n".to_string(),
        ),
        ("comments", format!("# c\n{base_line}\n#\n{incr_line}\n")),
        (
            "two incr",
            format!("{base_line}\n{incr_line}\nfile {incr2} seq 9 type i\n"),
        ),
        (
            "unknown type",
            format!("{base_line}\nfile x seq 3 type q\n"),
        ),
        ("duplicate base", format!("{base_line}\n{base_line}\n")),
        ("non-monotonic", format!("{incr_line}\n{incr_line}\n")),
        ("blank line", format!("{base_line}\n  \n")),
        (
            "odd fields",
            format!("{base_line}\nfile a seq 2 type i x\n"),
        ),
        ("path", format!("{base_line}\nfile a/b seq 2 type i\n")),
        ("no seq", format!("{base_line}\nfile a seq 0 type i\n")),
        ("bad quote", format!("{base_line}\nfile \"a seq 2 type i\n")),
        ("no newline", base_line.clone()),
        (
            "long line",
            format!("{base_line}\nfile {} seq 2 type i\n", "x".repeat(1100)),
        ),
        ("manifest then junk", format!("{base_line}\njunk\n")),
    ];
    for (name, m) in manifests {
        let mut files: Vec<_> = rdb_dir
            .iter()
            .filter(|(n, _)| !n.ends_with(".manifest"))
            .cloned()
            .collect();
        files.push(file(manifest_arg, m.as_bytes()));
        files.push(file(
            &format!("appendonlydir/{incr2}"),
            &resp(&["SET", "k", "v"]),
        ));
        cases.push(case(
            format!("manifest {name}"),
            files.clone(),
            &[manifest_arg],
            "",
        ));
        cases.push(case(
            format!("manifest {name}, --fix"),
            files,
            &["--fix", manifest_arg],
            "y\n",
        ));
    }
    // The incr file before a second one is not the last: not fixable.
    let mut two = rdb_dir
        .iter()
        .filter(|(n, _)| !n.ends_with(".manifest"))
        .cloned()
        .collect::<Vec<_>>();
    two.push(file(
        manifest_arg,
        format!("{base_line}\n{incr_line}\nfile {incr2} seq 9 type i\n").as_bytes(),
    ));
    two.push(file(
        &format!("appendonlydir/{incr2}"),
        &resp(&["SET", "k", "v"]),
    ));
    let cut_two = with(&rdb_incr_name, &rdb_incr[..rdb_incr.len() - 4], &two);
    cases.push(case(
        "second-last incr cut",
        cut_two.clone(),
        &[manifest_arg],
        "",
    ));
    cases.push(case(
        "second-last incr cut, --fix",
        cut_two,
        &["--fix", manifest_arg],
        "y\n",
    ));
    for ts in &stamps {
        let ts = (ts - 1).to_string();
        cases.push(case(
            format!("second-last incr to {ts}"),
            two.clone(),
            &["--truncate-to-timestamp", &ts, manifest_arg],
            "",
        ));
    }

    // Arguments and odd inputs.
    let a = vec![file("a.aof", &aof)];
    for args in [
        &[][..],
        &["a.aof", "b"],
        &["--fox", "a.aof"],
        &["--fix", "a.aof", "x"],
        &["--truncate-to-timestamp", "5"],
        &["--truncate-to-timestamp", "5", "a.aof", "x"],
        &["missing.aof"],
        &["--fix", "missing.aof"],
        &["appendonlydir"],
    ] {
        cases.push(case(format!("args {args:?}"), a.clone(), args, ""));
    }
    let odd: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("short REDIS", b"REDIS00".to_vec()),
        ("REDIS junk", b"REDIS0009junkjunk".to_vec()),
        ("file word", b"filesystem\r\n".to_vec()),
        ("comment then file", b"# x\nfile a seq 1 type i\n".to_vec()),
        ("comment only", b"#TS:1\r\n".to_vec()),
        (
            "long annotation",
            [b"#".as_slice(), &[b'a'; 1500], b"\r\n"].concat(),
        ),
        (
            "long annotation then command",
            [
                b"#".as_slice(),
                &[b'a'; 1022],
                b"\r\n",
                &resp(&["SET", "k", "v"]),
            ]
            .concat(),
        ),
        ("zero args", b"*0\r\n*-5\r\n*\r\n".to_vec()),
        ("blank count", b"* 1\r\n$ 1\r\na\r\n".to_vec()),
        (
            "long number",
            [b"*1\r\n$".as_slice(), &[b'0'; 200], b"1\r\na\r\n"].concat(),
        ),
        ("number no CRLF", b"*1\n$1\na\r\n".to_vec()),
        (
            "nul in name",
            b"*1\r\n$7\r\nmulti\0x\r\n*1\r\n$4\r\nEXEC\r\n".to_vec(),
        ),
        ("exec alone", resp(&["EXEC"])),
        (
            "multi exec",
            [resp(&["MULTI"]), resp(&["SET", "a", "b"]), resp(&["exec"])].concat(),
        ),
        (
            "multi cut",
            [resp(&["MULTI"]), resp(&["SET", "a", "b"])].concat(),
        ),
        ("multi multi", [resp(&["MULTI"]), resp(&["Multi"])].concat()),
        (
            "multi bad",
            [resp(&["SET", "a", "b"]), resp(&["MULTI"]), b"junk".to_vec()].concat(),
        ),
        ("negative length", b"*1\r\n$-2\r\nab\r\n".to_vec()),
        (
            "huge count",
            b"*9223372036854775807\r\n$1\r\na\r\n".to_vec(),
        ),
    ];
    for (name, bytes) in odd {
        cases.push(case(
            format!("odd {name}"),
            vec![file("a.aof", &bytes)],
            &["a.aof"],
            "",
        ));
        cases.push(case(
            format!("odd {name}, --fix"),
            vec![file("a.aof", &bytes)],
            &["--fix", "a.aof"],
            "y\n",
        ));
        for cut in 1..bytes.len().min(40) {
            cases.push(case(
                format!("odd {name} cut at {cut}"),
                vec![file("a.aof", &bytes[..cut])],
                &["a.aof"],
                "",
            ));
        }
    }
    cases
}

#[test]
#[ignore = "needs redis-server, redis-cli and redis-check-aof on PATH"]
fn reports_as_redis_check_aof_does() {
    let root = std::env::temp_dir().join(format!("viator-check-aof-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let rdb_dir = read_dir(&redis_aof_dir(&root, true));
    let resp_dir = read_dir(&redis_aof_dir(&root, false));
    let ours = env!("CARGO_BIN_EXE_viator-check-aof");
    let work = root.join("case");
    let all = cases(&rdb_dir, &resp_dir);
    eprintln!("{} cases", all.len());
    let mut failures = Vec::new();
    let mut names = Vec::new();
    for c in &all {
        let redis = run("redis-check-aof", c, &work);
        let viator = run(ours, c, &work);
        if redis != viator {
            names.push(c.name.clone());
            failures.push(format!(
                "{}: redis (status {}):\n{}viator (status {}):\n{}{}",
                c.name,
                redis.1,
                redis.0,
                viator.1,
                viator.0,
                if redis.2 != viator.2 {
                    "and the files left differ\n"
                } else {
                    ""
                }
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ: {names:?}\n{}",
        failures.len(),
        all.len(),
        failures.iter().take(10).cloned().collect::<String>()
    );
}
