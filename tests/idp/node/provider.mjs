// The OpenID provider of loyaute's tests: npm's certified oidc-provider, run by Node on loopback.
// Usage: node provider.mjs CONFIG.json — clients, users (account id -> claims), signing keys,
// ID token lifetime; prints "ready" once listening. Its development login page accepts any
// password; the accounts it knows are the users of the configuration only.
//
// One deliberate fault, for the wrong-audience test: the ID token of the user named by
// `misaddressed.sub` is issued for the client `misaddressed.client` instead (a provider that
// mixes up its clients); everything else is oidc-provider's own behaviour.
import fs from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const users = config.users;

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: config.keys },
  cookies: { keys: ['loyaute-test-idp-cookie-key'] },
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
    groups: ['groups'],
  },
  // the claims go in the ID token (as loyaute's deployment guide asks of real providers)
  conformIdTokenClaims: false,
  ttl: { IdToken: config.idTokenTtl, AuthorizationCode: 300, AccessToken: 300, Session: 3600, Interaction: 600, Grant: 3600 },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(users, id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...users[id] }; } };
  },
  // first-party client: no consent screen
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['preferred_username', 'name', 'email', 'groups']);
    await grant.save();
    return grant;
  },
});

if (config.misaddressed) {
  const issue = provider.IdToken.prototype.issue;
  provider.IdToken.prototype.issue = async function patched(options) {
    if (this.available && this.available.sub === config.misaddressed.sub) {
      this.client = await provider.Client.find(config.misaddressed.client);
    }
    return issue.call(this, options);
  };
}

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
