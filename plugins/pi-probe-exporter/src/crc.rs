//! The two checksums this crate needs: CRC-32 (IEEE) guards every spool
//! line, and the Dallas/Maxim CRC-8 is what a DS18B20 puts in byte 8 of its
//! scratchpad (the simulator writes it so its `w1_slave` files look real).

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation, reason = "i < 256")]
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 as used by zlib, gzip and PNG.
#[must_use]
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC32_TABLE[usize::from(c.to_le_bytes()[0] ^ b)] ^ (c >> 8);
    }
    !c
}

/// Dallas/Maxim 1-wire CRC-8 (polynomial x^8 + x^5 + x^4 + 1, reflected).
#[must_use]
pub fn crc8_maxim(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &byte in data {
        let mut b = byte;
        for _ in 0..8 {
            let mix = (crc ^ b) & 1;
            crc >>= 1;
            if mix == 1 {
                crc ^= 0x8C;
            }
            b >>= 1;
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn crc8_matches_real_ds18b20_scratchpads() {
        // Scratchpads copied from real w1_slave files.
        let pad = [0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10];
        assert_eq!(crc8_maxim(&pad), 0x57);
        // Power-on reset value 85 °C.
        let reset = [0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10];
        assert_eq!(crc8_maxim(&reset), 0x1c);
        // A scratchpad followed by its CRC checks to zero.
        let mut full = pad.to_vec();
        full.push(0x57);
        assert_eq!(crc8_maxim(&full), 0);
    }
}
