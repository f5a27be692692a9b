// The encoders of render/encode.ts, one per target syntax, and where secrets end up: only in files
// of mode 0600/0640 marked secret, and in no step but configure (which carries them on stdin).
import { expect } from "chai";
import { execFileSync } from "child_process";
import {
    buildoutValue,
    commentName,
    haproxyWord,
    htmlText,
    iniValue,
    nginxString,
    rsyslogString,
    supervisorValue,
    UnencodableValueError,
    vclString,
    zconfigValue,
} from "../../components/render/encode";
import { shellQuote } from "../../components/render/shell";
import { fullStacks, renderEverything, SECRET_VALUES, secretsOf, validate } from "../helpers/hostileConfig";

describe("encoders, one per target syntax", () => {
    it("every single-line target refuses a line break (a bug: the kinds refuse it first)", () => {
        for (const encode of [haproxyWord, supervisorValue, iniValue, buildoutValue, zconfigValue, vclString, nginxString, rsyslogString]) {
            expect(() => encode("a\nb"), encode.name).to.throw(UnencodableValueError);
            expect(() => encode("a\rb"), encode.name).to.throw(UnencodableValueError);
        }
    });

    it("escapes what each target would interpret", () => {
        expect(supervisorValue("100%")).to.equal("100%%");
        expect(iniValue("50% off")).to.equal("50%% off");
        expect(zconfigValue("pa$word")).to.equal("pa$$word");
        expect(vclString('say "hi"')).to.equal('{"say "hi""}');
        expect(() => vclString('a"}b"')).to.throw(UnencodableValueError);
        expect(nginxString('a "b" \\c')).to.equal('"a \\"b\\" \\\\c"');
        expect(() => nginxString("$host")).to.throw(/expand/);
        expect(rsyslogString('a"b\\c')).to.equal('"a\\"b\\\\c"');
        expect(htmlText(`<a href="x">'`)).to.equal("&lt;a href=&quot;x&quot;&gt;&#39;");
        expect(() => buildoutValue("a${b:c}")).to.throw(/substitution/);
        // Buildout skips a substitution behind $$ (and keeps $$ as it is).
        expect(buildoutValue("a$${b:c}")).to.equal("a$${b:c}");
        expect(() => commentName("x\n[program:evil]")).to.throw(UnencodableValueError);
    });

    it("shell words read back exactly by bash, a line break included (ANSI-C quoted, on one line)", () => {
        for (const v of ["plain", "a b", `it's "x" $(id) \`id\``, "line\nbreak\r\ttab", "back\\slash"]) {
            const q = shellQuote(v);
            expect(q, v).not.to.include("\n");
            expect(execFileSync("bash", ["-c", `printf %s ${q}`]).toString()).to.equal(v);
        }
        expect(() => shellQuote("a\u0000b")).to.throw(/NUL/);
    });
});

describe("secrets in the rendered files", function () {
    for (const stack of fullStacks()) {
        it(`${stack.name}: only in files of mode 0600/0640 marked secret, and only on the configure step's stdin`, () => {
            const { spec } = validate(stack.raw, stack.name);
            const secrets = secretsOf(stack.raw, spec!);
            const values = [...Object.values(SECRET_VALUES).filter((v) => Object.values(secrets).includes(v)), ...Object.values(secrets.appSecrets)];
            expect(values.length).to.be.at.least(5);
            const rendered = renderEverything(spec!, secrets);
            let secretFiles = 0;
            for (const [key, file] of rendered.files) {
                const holds = values.filter((v) => file.content.includes(v) || file.content.includes(shellQuote(v)));
                if (holds.length === 0) continue;
                if (key.includes(" step:")) {
                    expect(key, "a step other than configure carries a secret").to.match(/ step:configure$/);
                    continue;
                }
                secretFiles++;
                expect(file.mode, `${key} holds a secret`).to.be.oneOf(["0600", "0640"]);
                expect(file.secret, `${key} holds a secret but is not marked secret`).to.equal(true);
            }
            expect(secretFiles).to.be.at.least(3);
        });
    }
});
