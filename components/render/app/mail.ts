// Plone's mail settings (plone-aws:mail): the one place every builder reads them. Plone keeps them
// in its registry (plone.smtp_host, plone.smtp_port, plone.email_from_address, plone.email_from_name,
// the mail control panel); the buildout gets them in deploy.cfg's [plone-mail] section
// (render/app/deployCfg.ts), and the pip builder, once it exists, writes the same values where it
// puts the instance's settings.
import type { StackSpec } from "../../config/spec";
import { LOCAL_RELAY } from "../mail/relay";

export interface PloneMailSettings {
    /** Where MailHost sends: the relay on the host itself. */
    smtpHost: string;
    smtpPort: number;
    /** plone.email_from_address: mail.senderAddress. */
    emailFromAddress: string;
    /** plone.email_from_name: mail.senderName. */
    emailFromName: string;
}

/** Plone's mail settings, or undefined when the stack relays no mail. */
export function ploneMailSettings(spec: Pick<StackSpec, "mail">): PloneMailSettings | undefined {
    const mail = spec.mail;
    if (!mail) return undefined;
    return { smtpHost: LOCAL_RELAY.host, smtpPort: LOCAL_RELAY.port, emailFromAddress: mail.senderAddress, emailFromName: mail.senderName };
}
