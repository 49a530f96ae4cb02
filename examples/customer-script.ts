/**
 * An integrated customer's script: logs in with the account from the environment and
 * calls one API path (default: just log in). The client keeps the token fresh.
 *
 *   RC_BASE_URL=http://127.0.0.1:8080 RC_USERNAME=alice RC_PASSWORD=... \
 *     node --import tsx examples/customer-script.ts /api/v140/some/resource
 */
import { RecoveryConnectClient, RecoveryConnectError } from '../src/client/index.js';

const { RC_BASE_URL, RC_USERNAME, RC_PASSWORD, RC_VERSION = 'v140' } = process.env;
if (!RC_BASE_URL || !RC_USERNAME || !RC_PASSWORD) {
  console.error('Set RC_BASE_URL, RC_USERNAME and RC_PASSWORD.');
  process.exit(2);
}

const client = new RecoveryConnectClient({ baseUrl: RC_BASE_URL, username: RC_USERNAME, password: RC_PASSWORD, version: RC_VERSION });
try {
  const path = process.argv[2];
  if (path === undefined) {
    await client.accessToken(); // logs in; never print the token itself
    console.log(`Logged in to ${client.baseUrl} as ${client.username}.`);
  } else {
    const response = await client.fetch(path);
    console.log(`${response.status} ${response.statusText}\n${await response.text()}`);
    if (!response.ok) process.exitCode = 1;
  }
} catch (error) {
  if (!(error instanceof RecoveryConnectError)) throw error;
  console.error(error.message); // names the code (invalid_grant, timeout, …); never a secret
  process.exitCode = 1;
} finally {
  client.close();
}
