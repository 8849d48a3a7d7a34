use proptest::prelude::*;

use super::*;

/// What `f` writes; checks the writer's running CRC on the way.
fn written(compress: bool, f: impl FnOnce(&mut Writer<Vec<u8>>)) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), compress);
    f(&mut w);
    let crc = w.crc();
    let data = w.into_inner();
    assert_eq!(crc, crate::crc::crc64(&data));
    data
}

#[test]
fn lengths_use_redis_byte_layout() {
    assert_eq!(written(false, |w| w.length(63).unwrap()), [63]);
    assert_eq!(written(false, |w| w.length(64).unwrap()), [0x40, 64]);
    assert_eq!(written(false, |w| w.length(16383).unwrap()), [0x7f, 0xff]);
    assert_eq!(
        written(false, |w| w.length(16384).unwrap()),
        [0x80, 0, 0, 0x40, 0]
    );
    assert_eq!(
        written(false, |w| w.length(1 << 32).unwrap()),
        [0x81, 0, 0, 0, 1, 0, 0, 0, 0]
    );
}

#[test]
fn strings_are_integer_encoded_as_redis_does() {
    assert_eq!(written(false, |w| w.string(b"-1").unwrap()), [0xc0, 0xff]);
    assert_eq!(
        written(false, |w| w.string(b"12345").unwrap()),
        [0xc1, 0x39, 0x30]
    );
    assert_eq!(
        written(false, |w| w.string(b"-2147483648").unwrap()),
        [0xc2, 0, 0, 0, 0x80]
    );
    // Not canonical or too large for 32 bits: stored as text.
    assert_eq!(written(false, |w| w.string(b"007").unwrap()), b"\x03007");
    assert_eq!(written(false, |w| w.string(b"+1").unwrap()), b"\x02+1");
    assert_eq!(
        written(false, |w| w.string(b"2147483648").unwrap()),
        b"\x0a2147483648"
    );
    assert_eq!(
        written(false, |w| w.int_string(1 << 40).unwrap()),
        b"\x0d1099511627776"
    );
}

#[test]
fn compressible_strings_are_lzf_only_when_enabled() {
    let s = vec![b'a'; 200];
    let packed = written(true, |w| w.string(&s).unwrap());
    assert_eq!(packed[0], 0xc3);
    assert!(packed.len() < 20);
    assert_eq!(written(false, |w| w.string(&s).unwrap()).len(), 202);
    let mut r = Reader::new(&packed[..]);
    assert_eq!(r.bytes().unwrap(), s);
    // Short or incompressible strings stay raw.
    assert_eq!(written(true, |w| w.string(&[b'a'; 20]).unwrap())[0], 20);
    let noise: Vec<u8> = (0..64u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert_eq!(written(true, |w| w.string(&noise).unwrap())[0], 64);
}

#[test]
fn header_and_versions() {
    let h = written(false, |w| w.header(RDB_VERSION).unwrap());
    assert_eq!(h, b"REDIS0012");
    assert_eq!(Reader::new(&h[..]).header(12), Ok(12));
    assert_eq!(Reader::new(&h[..]).header(11), Err(Error::BadVersion(12)));
    assert_eq!(
        Reader::new(&b"REDIX0012"[..]).header(12),
        Err(Error::BadSignature)
    );
    assert_eq!(
        Reader::new(&b"RED"[..]).header(12),
        Err(Error::BadSignature)
    );
}

#[test]
fn forged_lengths_fail_without_allocating() {
    // A string claiming 2^63 bytes with 3 bytes behind it.
    let mut r = Reader::new(&[0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3][..]);
    assert_eq!(r.bytes(), Err(Error::UnexpectedEof));
    // LZF claiming 4 GB out of 2 bytes.
    let mut r = Reader::new(&[0xc3, 0x02, 0x80, 0xff, 0xff, 0xff, 0xff, 0, 0][..]);
    assert_eq!(r.bytes(), Err(Error::BadLzf));
    // LZF data that does not decode to its length.
    let mut r = Reader::new(&[0xc3, 0x02, 0x05, 0x00, b'a'][..]);
    assert_eq!(r.bytes(), Err(Error::BadLzf));
    // Unknown encodings.
    assert_eq!(Reader::new(&[0xc4][..]).bytes(), Err(Error::BadEncoding(4)));
    assert_eq!(
        Reader::new(&[0x82][..]).length(),
        Err(Error::BadEncoding(0x82))
    );
    assert_eq!(
        Reader::new(&[0xc0, 1][..]).length(),
        Err(Error::BadEncoding(0))
    );
}

#[test]
fn text_doubles() {
    let mut r = Reader::new(&b"\xfd\xfe\xff\x033.5\x01x"[..]);
    assert!(r.text_double().unwrap().is_nan());
    assert_eq!(r.text_double(), Ok(f64::INFINITY));
    assert_eq!(r.text_double(), Ok(f64::NEG_INFINITY));
    assert_eq!(r.text_double(), Ok(3.5));
    assert_eq!(r.text_double(), Err(Error::BadDouble));
}

proptest! {
    #[test]
    fn everything_round_trips(
        lens in proptest::collection::vec(any::<u64>(), 0..8),
        strings in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                any::<i64>().prop_map(|v| v.to_string().into_bytes()),
                (0usize..400).prop_map(|n| b"abcab".repeat(n)),
            ],
            0..8,
        ),
        doubles in proptest::collection::vec(any::<f64>(), 0..4),
        compress in any::<bool>(),
    ) {
        let mut w = Writer::new(Vec::new(), compress);
        for &n in &lens { w.length(n).unwrap(); }
        for s in &strings { w.string(s).unwrap(); }
        for &d in &doubles { w.binary_double(d).unwrap(); }
        let crc = w.crc();
        let data = w.into_inner();
        let mut r = Reader::new(&data[..]);
        for &n in &lens { prop_assert_eq!(r.length().unwrap(), n); }
        for s in &strings { prop_assert_eq!(&r.bytes().unwrap(), s); }
        for &d in &doubles { prop_assert_eq!(r.binary_double().unwrap().to_bits(), d.to_bits()); }
        prop_assert_eq!(r.offset(), data.len() as u64);
        prop_assert_eq!(r.crc(), crc);
        prop_assert_eq!(r.u8(), Err(Error::UnexpectedEof));
    }

    #[test]
    fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut r = Reader::new(&data[..]);
        while r.string().is_ok() {}
    }
}

mod values {
    use super::super::value::{HashField, ListNode, Value, intset_blob, read_value};
    use super::super::{Reader, Writer, value_type as t};
    use viator_types::listpack::Builder;

    fn read_back(rdbtype: u8, data: &[u8]) -> Value {
        let mut r = Reader::new(data);
        let v = read_value(&mut r, rdbtype).unwrap();
        assert_eq!(r.offset(), data.len() as u64, "whole record consumed");
        v
    }

    fn lp(items: &[&[u8]]) -> Vec<u8> {
        let mut b = Builder::new();
        for i in items {
            b.push(i);
        }
        b.finish()
    }

    #[test]
    fn lists_sets_zsets_hashes_round_trip() {
        let mut w = Writer::new(Vec::new(), true);
        let packed = lp(&[b"a", b"12", b"c"]);
        let big = vec![b'x'; 10_000];
        w.list_value(&[ListNode::Packed(&packed), ListNode::Plain(&big)])
            .unwrap();
        assert_eq!(
            read_back(t::LIST_QUICKLIST_2, &w.into_inner()),
            Value::List(vec![
                b"a".to_vec(),
                b"12".to_vec(),
                b"c".to_vec(),
                big.clone()
            ])
        );

        let mut w = Writer::new(Vec::new(), false);
        w.blob_value(&intset_blob(&[-70000, 1, 5])).unwrap();
        assert_eq!(
            read_back(t::SET_INTSET, &w.into_inner()),
            Value::Set(vec![b"-70000".to_vec(), b"1".to_vec(), b"5".to_vec()])
        );

        let mut w = Writer::new(Vec::new(), false);
        let members: Vec<&[u8]> = vec![b"m1", b"m2"];
        w.set_value(2, members.iter().copied()).unwrap();
        assert_eq!(
            read_back(t::SET, &w.into_inner()),
            Value::Set(vec![b"m1".to_vec(), b"m2".to_vec()])
        );

        let mut w = Writer::new(Vec::new(), false);
        w.blob_value(&lp(&[b"a", b"1.5", b"b", b"-3"])).unwrap();
        assert_eq!(
            read_back(t::ZSET_LISTPACK, &w.into_inner()),
            Value::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), -3.0)])
        );

        let mut w = Writer::new(Vec::new(), false);
        w.zset_value(
            2,
            [(&b"z"[..], f64::INFINITY), (&b"y"[..], 0.1)].into_iter(),
        )
        .unwrap();
        assert_eq!(
            read_back(t::ZSET_2, &w.into_inner()),
            Value::ZSet(vec![(b"z".to_vec(), f64::INFINITY), (b"y".to_vec(), 0.1)])
        );

        let mut w = Writer::new(Vec::new(), false);
        let fields = [
            (&b"f1"[..], &b"v1"[..], Some(5000u64)),
            (&b"f2"[..], &b"v2"[..], None),
        ];
        w.hash_value(2, Some(5000), fields.iter().copied()).unwrap();
        assert_eq!(
            read_back(t::HASH_METADATA, &w.into_inner()),
            Value::Hash(vec![
                HashField {
                    field: b"f1".to_vec(),
                    value: b"v1".to_vec(),
                    expire_ms: Some(5000)
                },
                HashField {
                    field: b"f2".to_vec(),
                    value: b"v2".to_vec(),
                    expire_ms: None
                },
            ])
        );

        let mut w = Writer::new(Vec::new(), false);
        let mut b = Builder::new();
        b.push(b"f");
        b.push(b"v");
        b.push_int(1_700_000_000_000);
        b.push(b"g");
        b.push(b"w");
        b.push_int(0);
        w.hash_listpack_ex_value(Some(1_700_000_000_000), &b.finish())
            .unwrap();
        assert_eq!(
            read_back(t::HASH_LISTPACK_EX, &w.into_inner()),
            Value::Hash(vec![
                HashField {
                    field: b"f".to_vec(),
                    value: b"v".to_vec(),
                    expire_ms: Some(1_700_000_000_000)
                },
                HashField {
                    field: b"g".to_vec(),
                    value: b"w".to_vec(),
                    expire_ms: None
                },
            ])
        );
    }

    #[test]
    fn corrupt_values_are_errors() {
        // A zset listpack with an odd element count, a NaN score, a
        // quicklist node with an unknown container.
        let mut w = Writer::new(Vec::new(), false);
        w.blob_value(&lp(&[b"a", b"1", b"b"])).unwrap();
        let data = w.into_inner();
        assert!(read_value(&mut Reader::new(&data[..]), t::ZSET_LISTPACK).is_err());
        let mut w = Writer::new(Vec::new(), false);
        w.zset_value(1, [(&b"n"[..], f64::NAN)].into_iter())
            .unwrap();
        let data = w.into_inner();
        assert!(read_value(&mut Reader::new(&data[..]), t::ZSET_2).is_err());
        let mut r = Reader::new(&[1u8, 3, 1, b'x'][..]);
        assert!(read_value(&mut r, t::LIST_QUICKLIST_2).is_err());
        let mut r = Reader::new(&[0u8][..]);
        assert!(read_value(&mut r, 99).is_err());
    }

    #[test]
    fn hash_field_ttls_relative_to_a_zero_minimum() {
        // Found by the rdb_dump_payload fuzz target: a minimum expire time
        // of 0 made `ttl + min - 1` underflow (a panic in debug builds).
        // Redis's unsigned sum gives ttl - 1: 0 (no expire) for a ttl of 1.
        let mut data = 0u64.to_le_bytes().to_vec();
        data.extend_from_slice(&[2, 1, 1, b'f', 1, b'v', 8, 1, b'g', 1, b'w']);
        assert_eq!(
            read_back(t::HASH_METADATA, &data),
            Value::Hash(vec![
                HashField {
                    field: b"f".to_vec(),
                    value: b"v".to_vec(),
                    expire_ms: None
                },
                HashField {
                    field: b"g".to_vec(),
                    value: b"w".to_vec(),
                    expire_ms: Some(7)
                },
            ])
        );
        // A sum past 64 bits wraps as in Redis, then is checked.
        let mut data = 10u64.to_le_bytes().to_vec();
        data.extend_from_slice(&[1, 0x81]);
        data.extend_from_slice(&u64::MAX.to_be_bytes());
        data.extend_from_slice(&[1, b'f', 1, b'v']);
        let mut r = Reader::new(&data[..]);
        assert_eq!(
            read_value(&mut r, t::HASH_METADATA),
            Ok(Value::Hash(vec![HashField {
                field: b"f".to_vec(),
                value: b"v".to_vec(),
                expire_ms: Some(8)
            }]))
        );
    }
}
