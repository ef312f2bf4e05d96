/**
 * What a stage must settle before `sls package`/`sls deploy` builds its stack: the address its alarms go to.
 * (The bucket names are checked against the target account at deploy time: stage-guard-plugin.js.)
 */
import type { ResolvedConfig } from '../domain/config';
import { ConfigError } from '../domain/common';

/** Sets (or overrides) a stage's alarm address for one package or deploy, so no real address lives in git. */
export const ALARM_EMAIL_ENV = 'SLUICE_ALARM_EMAIL';

/**
 * Domains reserved for documentation and tests, which never receive mail: example.com/.net/.org and the TLDs
 * .example, .invalid, .test, .localhost (RFC 2606, https://www.rfc-editor.org/rfc/rfc2606). An alarm subscription
 * to one would never be confirmed, so the stage's failures would reach nobody.
 */
const RESERVED_DOMAIN = /(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$/i;
const EMAIL = /^[^@\s]+@([^@\s]+\.[^@\s]+)$/;

/**
 * The stage's alarm address: SLUICE_ALARM_EMAIL, else the config's /deploy/alarmEmail. Refuses a placeholder
 * address, and a stage that keeps data (/deploy/retainData, i.e. production) with no address at all. Errors name
 * the stage and the field.
 */
export function alarmEmailFor(
  config: ResolvedConfig,
  stage: string,
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  const fromEnv = env[ALARM_EMAIL_ENV]?.trim();
  const address = fromEnv || config.deploy.alarmEmail;
  const field = fromEnv ? `environment variable ${ALARM_EMAIL_ENV}` : `config/${stage}.json /deploy/alarmEmail`;
  if (address) {
    const domain = EMAIL.exec(address)?.[1];
    if (!domain) throw new ConfigError(`stage '${stage}': ${field} '${address}' is not an e-mail address`);
    if (RESERVED_DOMAIN.test(domain))
      throw new ConfigError(
        `stage '${stage}': ${field} '${address}' is a placeholder (${domain} is reserved for examples and receives ` +
          `no mail), so the stage's alarms would reach nobody; set the on-call address in ${ALARM_EMAIL_ENV} or /deploy/alarmEmail`,
      );
    return address;
  }
  if (config.deploy.retainData)
    throw new ConfigError(
      `stage '${stage}' keeps its data (/deploy/retainData) but has no alarm address: set ${ALARM_EMAIL_ENV} ` +
        `(e.g. ${ALARM_EMAIL_ENV}=data-oncall@yourcompany.com npx sls deploy --stage ${stage}) or /deploy/alarmEmail in config/${stage}.json`,
    );
  return undefined;
}
