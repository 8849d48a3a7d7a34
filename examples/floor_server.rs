//! The cheapest RESP server: it parses each request and answers a null
//! bulk string, with one read and one write per ready connection and nothing
//! else. It holds no data.
//!
//! It is a measuring stick, not a server. Run under `bench/floor.sh` beside
//! redis-server and viator-server, it shows how much of a request's server
//! CPU goes to the kernel's socket work, which no server can avoid. That
//! share bounds how far below Redis's CPU per request any server can get.
//!
//! `cargo run --release -p viator-examples --example floor_server -- 6400`

use std::io::{ErrorKind, Read, Write};

use bytes::BytesMut;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use viator_protocol::{Limits, Parsed, parse_command};

const LISTENER: Token = Token(usize::MAX);
const READ_CHUNK: usize = 16 * 1024;

/// One client: what it sent that is not yet a whole request, and the
/// replies the socket did not take yet.
struct Client {
    stream: TcpStream,
    input: BytesMut,
    output: Vec<u8>,
    /// Whether the socket is registered for writability too.
    waits_to_write: bool,
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(6400);
    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into())?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut clients: Vec<Option<Client>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut args = Vec::new();
    let limits = Limits::default();
    // Reads land here, then only the bytes read are copied to the client.
    let mut scratch = vec![0u8; READ_CHUNK];
    loop {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            if event.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    stream.set_nodelay(true)?;
                    let slot = clients.iter().position(Option::is_none);
                    let slot = slot.unwrap_or_else(|| {
                        clients.push(None);
                        clients.len() - 1
                    });
                    poll.registry()
                        .register(&mut stream, Token(slot), Interest::READABLE)?;
                    clients[slot] = Some(Client {
                        stream,
                        input: BytesMut::new(),
                        output: Vec::new(),
                        waits_to_write: false,
                    });
                }
                continue;
            }
            let slot = event.token().0;
            let Some(client) = clients[slot].as_mut() else {
                continue;
            };
            if serve(client, &limits, &mut args, &mut scratch).is_err() {
                if let Some(mut gone) = clients[slot].take() {
                    let _ = poll.registry().deregister(&mut gone.stream);
                }
                continue;
            }
            // A reply the socket did not take waits for it to be writable
            // (registration changes only then: it costs a syscall).
            let waits = !client.output.is_empty();
            if waits != client.waits_to_write {
                let interest = if waits {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                poll.registry()
                    .reregister(&mut client.stream, Token(slot), interest)?;
                client.waits_to_write = waits;
            }
        }
    }
}

/// Reads what the client sent (edge-triggered: a read shorter than the
/// space offered took everything), answers each whole request, and writes
/// the replies. An error or end of stream closes the client.
fn serve(
    client: &mut Client,
    limits: &Limits,
    args: &mut Vec<bytes::Bytes>,
    scratch: &mut [u8],
) -> std::io::Result<()> {
    loop {
        let n = match client.stream.read(scratch) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        client.input.extend_from_slice(&scratch[..n]);
        loop {
            match parse_command(&mut client.input, limits, args) {
                Ok(Parsed::Command) => client.output.extend_from_slice(b"$-1\r\n"),
                Ok(Parsed::Incomplete { .. }) => break,
                Err(_) => return Err(ErrorKind::InvalidData.into()),
            }
        }
        if n < scratch.len() {
            break;
        }
    }
    while !client.output.is_empty() {
        match client.stream.write(&client.output) {
            Ok(n) => {
                client.output.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
