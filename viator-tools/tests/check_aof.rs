//! viator-check-aof's reports, word for word, on files made here: what
//! redis-check-aof prints for the same files (the side-by-side comparison
//! with Debian's build is `check_aof_vs_redis`, which needs Redis).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("viator-check-aof-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.0.join(name)).unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs viator-check-aof in `dir` with `args`, answering `stdin`: its
/// output and exit status.
fn check(dir: &Path, args: &[&str], stdin: &str) -> (String, i32) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_viator-check-aof"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap(),
    )
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// SELECT 0 and SET k v: 50 bytes, the first command 23.
fn two_commands() -> Vec<u8> {
    [resp(&["SELECT", "0"]), resp(&["SET", "k", "v"])].concat()
}

#[test]
fn a_valid_file_and_a_cut_one() {
    let d = Dir::new("cut");
    d.write("a.aof", &two_commands());
    assert_eq!(
        check(&d.0, &["a.aof"], ""),
        (
            "Start checking Old-Style AOF\n\
             AOF analyzed: filename=a.aof, size=50, ok_up_to=50, ok_up_to_line=13, diff=0\n\
             AOF a.aof is valid\n"
                .to_string(),
            0
        )
    );
    // Cut inside the value of SET: the bulk is short.
    d.write("a.aof", &two_commands()[..48]);
    assert_eq!(
        check(&d.0, &["a.aof"], ""),
        (
            "Start checking Old-Style AOF\n\
             0x              2f: Expected to read 3 bytes, got 1 bytes\n\
             AOF analyzed: filename=a.aof, size=48, ok_up_to=23, ok_up_to_line=12, diff=25\n\
             AOF a.aof is not valid. Use the --fix option to try fixing it.\n"
                .to_string(),
            1
        )
    );
    // A bad byte where a bulk length should be, and in a number.
    let mut bad = two_commands();
    bad[27] = b'x';
    d.write("a.aof", &bad);
    let (text, status) = check(&d.0, &["a.aof"], "");
    assert_eq!(status, 1);
    assert!(
        text.contains("0x              1b: Expected prefix '$', got: 'x'\n"),
        "{text}"
    );
    bad[27] = b'$';
    bad[28] = 0xe9;
    d.write("a.aof", &bad);
    let (text, _) = check(&d.0, &["a.aof"], "");
    assert!(
        text.contains("0x              1b: Expected \\r\\n, got: ffffffe90d\n"),
        "{text}"
    );
    // Text that is no command at all.
    d.write("a.aof", &[two_commands(), b"junk\r\n".to_vec()].concat());
    let (text, status) = check(&d.0, &["a.aof"], "");
    assert_eq!(status, 1);
    assert!(
        text.starts_with("Start checking Old-Style AOF\nAOF a.aof format error\n"),
        "{text}"
    );
}

#[test]
fn fix_asks_then_truncates_after_the_last_whole_command() {
    let d = Dir::new("fix");
    let cut = &two_commands()[..30];
    d.write("a.aof", cut);
    let report = "Start checking Old-Style AOF\n\
                  0x              1b: Expected \\r\\n, got: 0d00\n\
                  AOF analyzed: filename=a.aof, size=30, ok_up_to=23, ok_up_to_line=7, diff=7\n\
                  This will shrink the AOF a.aof from 30 bytes, with 7 bytes, to 23 bytes\n\
                  Continue? [y/N]: ";
    assert_eq!(
        check(&d.0, &["--fix", "a.aof"], "N\n"),
        (format!("{report}Aborting...\n"), 1)
    );
    assert_eq!(d.read("a.aof"), cut);
    assert_eq!(
        check(&d.0, &["--fix", "a.aof"], "y\n"),
        (format!("{report}Successfully truncated AOF a.aof\n"), 0)
    );
    assert_eq!(d.read("a.aof"), resp(&["SELECT", "0"]));
    // A transaction cut short goes whole.
    let tx = [
        resp(&["SET", "a", "1"]),
        resp(&["MULTI"]),
        resp(&["SET", "b", "2"]),
    ]
    .concat();
    d.write("t.aof", &tx);
    let (text, status) = check(&d.0, &["--fix", "t.aof"], "y");
    assert_eq!(status, 0, "{text}");
    assert!(
        text.contains("0x              42: Reached EOF before reading EXEC for MULTI\n"),
        "{text}"
    );
    assert_eq!(d.read("t.aof"), resp(&["SET", "a", "1"]));
}

#[test]
fn multi_part_aof_through_its_manifest() {
    let d = Dir::new("multi");
    d.write(
        "appendonlydir/appendonly.aof.manifest",
        b"file appendonly.aof.1.base.aof seq 1 type b\n\
          file appendonly.aof.1.incr.aof seq 1 type i\n\
          file appendonly.aof.2.incr.aof seq 2 type i\n",
    );
    d.write("appendonlydir/appendonly.aof.1.base.aof", &two_commands());
    d.write("appendonlydir/appendonly.aof.1.incr.aof", &two_commands());
    d.write("appendonlydir/appendonly.aof.2.incr.aof", b"");
    let manifest = "appendonlydir/appendonly.aof.manifest";
    assert_eq!(
        check(&d.0, &[manifest], ""),
        (
            "Start checking Multi Part AOF\n\
             Start to check BASE AOF (RESP format).\n\
             AOF analyzed: filename=appendonly.aof.1.base.aof, size=50, ok_up_to=50, ok_up_to_line=13, diff=0\n\
             BASE AOF appendonly.aof.1.base.aof is valid\n\
             Start to check INCR files.\n\
             AOF analyzed: filename=appendonly.aof.1.incr.aof, size=50, ok_up_to=50, ok_up_to_line=25, diff=0\n\
             INCR AOF appendonly.aof.1.incr.aof is valid\n\
             INCR AOF appendonly.aof.2.incr.aof is empty\n\
             All AOF files and manifest are valid\n"
                .to_string(),
            0
        )
    );
    // Only the last file may be fixed.
    d.write(
        "appendonlydir/appendonly.aof.1.incr.aof",
        &two_commands()[..40],
    );
    let (text, status) = check(&d.0, &["--fix", manifest], "y\n");
    assert_eq!(status, 1);
    assert!(
        text.ends_with(
            "0x              28: Expected to read 3 bytes, got 0 bytes\n\
             AOF analyzed: filename=appendonly.aof.1.incr.aof, size=40, ok_up_to=23, ok_up_to_line=22, diff=17\n\
             Failed to truncate AOF appendonly.aof.1.incr.aof because it is not the last file\n"
        ),
        "{text}"
    );
    // A file the manifest names is missing.
    d.write("appendonlydir/appendonly.aof.1.incr.aof", &two_commands());
    std::fs::remove_file(d.0.join("appendonlydir/appendonly.aof.2.incr.aof")).unwrap();
    let (text, status) = check(&d.0, &[manifest], "");
    assert_eq!(status, 1);
    assert!(
        text.ends_with(
            "Cannot open file appendonlydir/appendonly.aof.2.incr.aof: No such file or directory, aborting...\n"
        ),
        "{text}"
    );
}

#[test]
fn rdb_preamble_is_checked_then_the_tail() {
    let d = Dir::new("preamble");
    let mut rdb = b"REDIS0011\xff".to_vec();
    let crc = viator_persist::crc::crc64(&rdb);
    rdb.extend_from_slice(&crc.to_le_bytes());
    d.write("a.aof", &[rdb.clone(), two_commands()].concat());
    assert_eq!(
        check(&d.0, &["a.aof"], ""),
        (
            "Start checking Old-Style AOF\n\
             [offset 0] Checking RDB file a.aof\n\
             [offset 18] Checksum OK\n\
             [offset 18] \\o/ RDB looks OK! \\o/\n\
             [info] 0 keys read\n\
             [info] 0 expires\n\
             [info] 0 already expired\n\
             [info] 0 subexpires\n\
             RDB preamble is OK, proceeding with AOF tail...\n\
             AOF analyzed: filename=a.aof, size=68, ok_up_to=68, ok_up_to_line=13, diff=0\n\
             AOF a.aof is valid\n"
                .to_string(),
            0
        )
    );
    let mut bad = rdb.clone();
    bad[12] ^= 1;
    d.write("a.aof", &bad);
    let (text, status) = check(&d.0, &["a.aof"], "");
    assert_eq!(status, 1);
    assert!(
        text.contains("[offset 18] RDB CRC error\n")
            && text.ends_with("RDB preamble of AOF file is not sane, aborting.\n"),
        "{text}"
    );
}

#[test]
fn truncate_to_timestamp_cuts_at_the_first_later_annotation() {
    let d = Dir::new("ts");
    let file = [
        resp(&["SET", "a", "1"]),
        b"#TS:100\r\n".to_vec(),
        resp(&["SET", "b", "2"]),
        b"#TS:200\r\n".to_vec(),
        resp(&["SET", "c", "3"]),
    ]
    .concat();
    d.write("a.aof", &file);
    assert_eq!(
        check(&d.0, &["--truncate-to-timestamp", "150", "a.aof"], ""),
        (
            "Start checking Old-Style AOF\n\
             Successfully truncated AOF a.aof to timestamp 150\n"
                .to_string(),
            0
        )
    );
    assert_eq!(d.read("a.aof").len(), 2 * 27 + 9);
    assert_eq!(
        check(&d.0, &["--truncate-to-timestamp", "150", "a.aof"], ""),
        (
            "Start checking Old-Style AOF\n\
             Truncate nothing in AOF a.aof to timestamp 150\n\
             AOF a.aof is valid\n"
                .to_string(),
            0
        )
    );
    assert_eq!(
        check(&d.0, &["--truncate-to-timestamp", "1x", "a.aof"], ""),
        ("Invalid timestamp, aborting...\n".to_string(), 1)
    );
}

#[test]
fn manifest_errors_are_redis_fatal_reports() {
    let d = Dir::new("manifest");
    d.write(
        "m.manifest",
        b"file a.aof seq 1 type b\nfile b.aof seq 1 type q\n",
    );
    let (text, status) = check(&d.0, &["m.manifest"], "");
    assert_eq!(status, 1);
    // Redis's log lines: "PID:C DD Mon YYYY HH:MM:SS.mmm # message".
    let logged: String = text
        .lines()
        .map(|l| match l.split_once(":C ") {
            Some((pid, rest)) if pid.parse::<u32>().is_ok() => {
                let (time, msg) = rest.split_once(" # ").unwrap();
                assert_eq!(time.len(), 24, "{l}");
                format!("<log> # {msg}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    assert_eq!(
        logged,
        "Start checking Multi Part AOF\n\
         <log> # \n\
         *** FATAL AOF MANIFEST FILE ERROR ***\n\
         \n\
         <log> # Reading the manifest file, at line 2\n\
         \n\
         <log> # >>> 'file b.aof seq 1 type q'\n\
         \n\
         <log> # Unknown AOF file type\n\
         \n"
    );
}

#[test]
fn arguments_as_redis_takes_them() {
    let d = Dir::new("args");
    let usage = "Usage: viator-check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n";
    for args in [&[][..], &["--fox", "a"], &["a", "b", "c", "d", "e"]] {
        let (text, status) = check(&d.0, args, "");
        assert_eq!(status, 1);
        assert!(text.starts_with("Usage: "), "{text}");
        assert!(text.ends_with(&usage[22..]), "{text}");
    }
    assert_eq!(
        check(&d.0, &["nope.aof"], ""),
        (
            "Cannot open file nope.aof: No such file or directory\n".to_string(),
            1
        )
    );
    d.write("e.aof", b"");
    assert_eq!(
        check(&d.0, &["e.aof"], ""),
        (
            "Start checking Old-Style AOF\nAOF e.aof is empty\n".to_string(),
            0
        )
    );
    let (text, status) = check(&d.0, &["--version"], "");
    assert_eq!(status, 0);
    assert!(text.starts_with("viator-check-aof "), "{text}");
}
