/**
 * `recoveryconnect-auth/client`: the SDK for integrated customers of a RecoveryConnect
 * style API. Depends on nothing but the web platform's fetch, so it also runs in browsers.
 *
 * @example
 * ```ts
 * import { RecoveryConnectClient, RecoveryConnectError } from 'recoveryconnect-auth/client';
 * const client = new RecoveryConnectClient({ baseUrl: 'https://api.mbsisystems.com', username, password });
 * const response = await client.fetch('/api/v140/some/resource');
 * ```
 */
export { RecoveryConnectClient } from './client.js';
export { RecoveryConnectError, type ClientErrorCode, type ServerErrorCode, type RecoveryConnectErrorOptions } from './errors.js';
export type { RecoveryConnectClientOptions } from './options.js';
export type { TokenResponse } from './token-response.js';
