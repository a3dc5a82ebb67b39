import type {
  ApiToken,
  AuthOptions,
  LoginBody,
  Me,
  Presence,
  SignupAccepted,
  SignupBody,
  UpdateMeBody,
  User,
} from '@openlines/contract';
import { segment, type Transport } from '../transport';
import type { ChangePasswordInput, CreateApiTokenInput, CreatedApiToken } from '../types';

/** Signing in and out, and what the signed-in user does to themselves (`/auth/*`, `/me/*`). */
export class AuthApi {
  constructor(private readonly transport: Transport) {}

  /**
   * Signs in. Browsers keep the session cookie themselves; elsewhere the client keeps it. Either
   * way the client remembers the CSRF token that unsafe requests must carry.
   */
  async login(credentials: LoginBody): Promise<Me> {
    const me = await this.transport.request<Me>('POST', '/auth/login', { body: credentials });
    this.transport.csrfToken = me.csrfToken ?? null;
    return me;
  }

  /** What the sign-in page may offer before anyone signs in (whether sign-up is on). */
  options(): Promise<AuthOptions> {
    return this.transport.request('GET', '/auth/options');
  }

  /**
   * Self-service sign-up (servers with SIGNUP_ENABLED): mails a confirmation link to the address;
   * the account exists once the link is followed. The answer is the same for a taken address.
   */
  signup(input: SignupBody): Promise<SignupAccepted> {
    return this.transport.request('POST', '/signup', { body: input });
  }

  /** Ends the session on the server and forgets it here. */
  async logout(): Promise<void> {
    try {
      await this.transport.request<void>('POST', '/auth/logout');
    } finally {
      this.transport.forgetSession();
    }
  }

  /** The signed-in user, their account and permissions; refreshes the CSRF token (page reloads). */
  async me(): Promise<Me> {
    const me = await this.transport.request<Me>('GET', '/me');
    if (me.csrfToken) this.transport.csrfToken = me.csrfToken;
    return me;
  }

  /** Changes my password; every other session of mine ends, this one stays. */
  changePassword(input: ChangePasswordInput): Promise<void> {
    return this.transport.request('POST', '/me/password', { body: input });
  }

  /** Sets the name and photo clients see me under (Q-8); null goes back to my profile's. */
  updateMe(input: UpdateMeBody): Promise<User> {
    return this.transport.request('PATCH', '/me', { body: input });
  }

  setPresence(presence: Presence): Promise<User> {
    return this.transport.request('PUT', '/me/presence', { body: { presence } });
  }
}

/** My API tokens, for integrations and bots. */
export class ApiTokensApi {
  constructor(private readonly transport: Transport) {}

  list(): Promise<ApiToken[]> {
    return this.transport.request('GET', '/me/api-tokens');
  }

  /** The token itself is in this response only; the server keeps just its hash. */
  create(input: CreateApiTokenInput): Promise<CreatedApiToken> {
    return this.transport.request('POST', '/me/api-tokens', { body: input });
  }

  revoke(id: string): Promise<void> {
    return this.transport.request('DELETE', `/me/api-tokens/${segment(id)}`);
  }
}
