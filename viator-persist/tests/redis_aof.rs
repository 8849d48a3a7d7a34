//! Reads an AOF directory written by a real redis-server (Debian's, on
//! `PATH`): its manifest, its RDB-preamble base file and its incremental
//! file of commands. `#[ignore]`d because it needs redis-server; `.ci/run`
//! runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use viator_persist::aof::commands::CommandReader;
use viator_persist::aof::manifest::{FileType, Manifest};
use viator_persist::rdb::file::{FileReader, Record};

#[test]
#[ignore = "needs redis-server on PATH"]
fn reads_the_aof_directory_redis_writes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("viator-aof-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args([
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH");
    let stream = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(50));
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let Some(stream) = stream else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start");
    };
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let sent: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"k", b"v"],
        vec![b"RPUSH", b"l", b"a", b"b\r\nc"],
        vec![b"SELECT", b"2"],
        vec![b"SET", b"big", &[b'x'; 3000]],
    ];
    for c in &sent {
        let mut buf = format!("*{}\r\n", c.len()).into_bytes();
        for a in c {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        w.write_all(&buf).unwrap();
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(!line.starts_with('-'), "{line}");
    }
    let aofdir = dir.join("appendonlydir");
    let manifest = std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap();
    let _ = child.kill();
    let _ = child.wait();

    let m = Manifest::parse(&manifest).unwrap();
    // Redis writes the manifest our way, byte for byte.
    assert_eq!(m.format(), manifest);
    let base = m.base.as_ref().expect("a base file");
    assert_eq!(base.kind, FileType::Base);
    let base_file =
        std::fs::read(aofdir.join(String::from_utf8(base.name.clone()).unwrap())).unwrap();
    let mut rdb = FileReader::new(&base_file[..]).unwrap();
    while rdb.next_record().unwrap() != Record::Eof {}
    assert_eq!(m.incr.len(), 1);
    let mut incr = Vec::new();
    std::fs::File::open(aofdir.join(String::from_utf8(m.incr[0].name.clone()).unwrap()))
        .unwrap()
        .read_to_end(&mut incr)
        .unwrap();
    let mut reader = CommandReader::new(&incr[..], 0);
    let mut got = Vec::new();
    while let Some(c) = reader.next_command().unwrap() {
        got.push(c);
    }
    assert_eq!(reader.offset(), incr.len() as u64);
    // Redis adds a SELECT before the first write; the rest are ours.
    let ours: Vec<Vec<Vec<u8>>> = sent
        .iter()
        .map(|c| c.iter().map(|a| a.to_vec()).collect())
        .collect();
    assert_eq!(got[0], vec![b"SELECT".to_vec(), b"0".to_vec()]);
    assert_eq!(&got[1..], &ours[..]);
    let _ = std::fs::remove_dir_all(&dir);
}
