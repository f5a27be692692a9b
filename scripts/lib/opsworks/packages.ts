// Ubuntu 12.04/14.04 package names from OpsWorks layers and deploy.<app>.os_packages, and what a
// Debian 12 host installs instead. Names not listed pass through unchanged; names that only make
// sense for Python 2 or for packages plone-aws installs itself are left out with a reason.

export interface PackageMapping {
    /** The Debian 12 packages, or none. */
    debian: string[];
    why: string;
}

const rename = (debian: string, why = "renamed in Debian 12"): PackageMapping => ({ debian: [debian], why });
const drop = (why: string): PackageMapping => ({ debian: [], why });

export const PACKAGE_MAP: Readonly<Record<string, PackageMapping>> = {
    "libjpeg8-dev": rename("libjpeg-dev"),
    "libjpeg62-dev": rename("libjpeg-dev"),
    "libjpeg-turbo8-dev": rename("libjpeg-dev"),
    "libtiff4-dev": rename("libtiff-dev"),
    "libtiff5-dev": rename("libtiff-dev", "libtiff5-dev is a transitional package in Debian 12"),
    "liblcms1-dev": rename("liblcms2-dev", "Little CMS 1 is gone; Pillow builds against lcms2"),
    "libfreetype6-dev": rename("libfreetype-dev", "libfreetype6-dev is a transitional package in Debian 12"),
    "libpng12-dev": rename("libpng-dev"),
    "libreadline6-dev": rename("libreadline-dev"),
    "libreadline5-dev": rename("libreadline-dev"),
    "libncurses5-dev": rename("libncurses-dev", "libncurses5-dev is a transitional package in Debian 12"),
    "libxslt-dev": rename("libxslt1-dev"),
    "libmysqlclient-dev": rename("default-libmysqlclient-dev"),
    "mime-support": rename("media-types", "mime-support was split; media-types has /etc/mime.types"),
    "lynx-cur": rename("lynx"),
    "openjdk-6-jre-headless": rename("default-jre-headless", "OpenJDK 17"),
    "openjdk-7-jre-headless": rename("default-jre-headless", "OpenJDK 17"),
    "openjdk-8-jre-headless": rename("default-jre-headless", "OpenJDK 17"),
    "openjdk-7-jre": rename("default-jre", "OpenJDK 17"),
    "openjdk-8-jre": rename("default-jre", "OpenJDK 17"),
    "python-dev": drop("Python 2: the hosts build with python3-dev, installed already"),
    "python2.7-dev": drop("Python 2: the hosts build with python3-dev, installed already"),
    "python-setuptools": drop("Python 2: the app's virtualenv brings setuptools"),
    "python-virtualenv": drop("Python 2: python3 -m venv (python3-venv) makes the virtualenv"),
    "python-pip": drop("Python 2: the app's virtualenv brings pip"),
    "python-imaging": drop("Python 2 PIL: the buildout installs Pillow"),
    "python-ldap": drop("Python 2 module: the buildout builds python-ldap (add libldap2-dev libsasl2-dev)"),
    "build-essential": drop("installed on every host that runs the buildout"),
    "git-core": drop("git is installed on every host"),
};

export interface MappedPackages {
    packages: string[];
    /** One line per package that changed: `libtiff4-dev -> libtiff-dev (why)`. */
    notes: string[];
}

/**
 * Debian 12 names for a list of Ubuntu packages. A `{name: version}` map (the cookbook allowed it)
 * loses its versions: Ubuntu version strings never match Debian's.
 */
export function debianPackages(input: string[] | Record<string, string>): MappedPackages {
    const notes: string[] = [];
    const names = Array.isArray(input) ? input : Object.keys(input);
    if (!Array.isArray(input)) {
        const pinned = Object.entries(input).filter(([, v]) => v);
        if (pinned.length > 0)
            notes.push(`version pins dropped (${pinned.map(([k, v]) => `${k}=${v}`).join(", ")}): Ubuntu versions do not exist on Debian 12`);
    }
    const out: string[] = [];
    for (const name of names) {
        const m = PACKAGE_MAP[name];
        if (!m) {
            out.push(name);
            continue;
        }
        out.push(...m.debian);
        notes.push(`${name} -> ${m.debian.length ? m.debian.join(" ") : "(nothing)"}: ${m.why}`);
    }
    return { packages: [...new Set(out)], notes };
}

/** The Markdown table of PACKAGE_MAP, for the docs. */
export function packagesMarkdown(): string {
    const lines = ["| Ubuntu (OpsWorks) | Debian 12 | why |", "|---|---|---|"];
    for (const [from, m] of Object.entries(PACKAGE_MAP)) lines.push(`| \`${from}\` | ${m.debian.map((d) => `\`${d}\``).join(" ") || "(none)"} | ${m.why} |`);
    return lines.join("\n");
}
