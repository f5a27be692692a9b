// OpenSSH public keys as EC2's ImportKeyPair takes them: the key line must decode to a well-formed
// key of the type it names (RFC 4253 6.6, RFC 8709 for ed25519, RFC 5656 for ecdsa), not only look
// like one. The stack files ship a placeholder that passes the schema's pattern on purpose.

/** The key types EC2 imports. */
const KEY_TYPES = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"] as const;

/** Text the example keys of the stack files carry inside their base64. */
const PLACEHOLDER_MARKERS = ["PLACEHOLDER", "REPLACEWITHYOURS", "TESTKEY"];

/** Reads the length-prefixed strings of the SSH wire format. */
class WireReader {
    private offset = 0;
    constructor(private readonly data: Buffer) {}
    string(): Buffer | undefined {
        if (this.offset + 4 > this.data.length) return undefined;
        const length = this.data.readUInt32BE(this.offset);
        if (this.offset + 4 + length > this.data.length) return undefined;
        const value = this.data.subarray(this.offset + 4, this.offset + 4 + length);
        this.offset += 4 + length;
        return value;
    }
    get done(): boolean {
        return this.offset === this.data.length;
    }
}

// Curve25519 in Edwards form: a public key is a point y (with the sign of x in the top bit) that
// only exists when (y^2 - 1) / (d y^2 + 1) is a square mod p (RFC 8032 5.1.3).
const P = 2n ** 255n - 19n;
const D = mod(-121665n * modPow(121666n, P - 2n));

function mod(a: bigint): bigint {
    const r = a % P;
    return r < 0n ? r + P : r;
}

function modPow(base: bigint, exponent: bigint): bigint {
    let result = 1n;
    let b = mod(base);
    let e = exponent;
    while (e > 0n) {
        if (e & 1n) result = mod(result * b);
        b = mod(b * b);
        e >>= 1n;
    }
    return result;
}

function isEd25519Point(key: Buffer): boolean {
    if (key.length !== 32) return false;
    const bytes = Buffer.from(key);
    const sign = bytes[31] >> 7;
    bytes[31] &= 0x7f;
    const y = BigInt(`0x${Buffer.from(bytes).reverse().toString("hex")}`);
    if (y >= P) return false;
    const y2 = mod(y * y);
    const x2 = mod((y2 - 1n) * modPow(D * y2 + 1n, P - 2n));
    if (x2 === 0n) return sign === 0;
    return modPow(x2, (P - 1n) / 2n) === 1n;
}

const ECDSA_POINT_BYTES: Record<string, number> = { nistp256: 32, nistp384: 48, nistp521: 66 };

/**
 * Why EC2 would refuse this public key line (or why it is the example key of a stack file), or
 * undefined when it is a well-formed key.
 */
export function publicKeyProblem(line: string): string | undefined {
    const [type, data] = line.trim().split(/\s+/);
    if (!(KEY_TYPES as readonly string[]).includes(type) || !data) return `must start with one of ${KEY_TYPES.join(", ")} followed by the base64 key`;
    if (PLACEHOLDER_MARKERS.some((m) => data.includes(m)))
        return "is the example key of the stack file: put your own public key here (the private half goes to plone-aws:sshPrivateKey)";
    const bytes = Buffer.from(data, "base64");
    if (bytes.toString("base64").replace(/=+$/, "") !== data.replace(/=+$/, "")) return "is not valid base64";
    const reader = new WireReader(bytes);
    const embedded = reader.string()?.toString("latin1");
    if (embedded !== type) return `says ${type} but its data is ${embedded ? `a ${embedded} key` : "not an SSH key"}`;
    if (type === "ssh-ed25519") {
        const key = reader.string();
        if (!key || key.length !== 32 || !reader.done) return "is not a complete ed25519 key (32 bytes)";
        if (!isEd25519Point(key)) return "is not a valid ed25519 key: its 32 bytes are not a point of the curve";
        return undefined;
    }
    if (type === "ssh-rsa") {
        const exponent = reader.string();
        const modulus = reader.string();
        if (!exponent?.length || !modulus?.length || !reader.done) return "is not a complete RSA key (exponent and modulus)";
        const bits = (modulus.length - (modulus[0] === 0 ? 1 : 0)) * 8;
        if (bits < 2048) return `is a ${bits}-bit RSA key: use 2048 bits or more (or ed25519)`;
        return undefined;
    }
    const curve = type.slice("ecdsa-sha2-".length);
    const named = reader.string()?.toString("latin1");
    const point = reader.string();
    const size = ECDSA_POINT_BYTES[curve];
    if (named !== curve || !point || point.length !== 1 + 2 * size || point[0] !== 4 || !reader.done) return `is not a complete ${curve} ECDSA key`;
    return undefined;
}
