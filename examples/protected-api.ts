// A Fastify API protected by the verify SDK. Start the token server (`npm start`), then:
//   RCAUTH_ISSUER=http://127.0.0.1:8080 node --import tsx examples/protected-api.ts
//   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/me
import Fastify from 'fastify';
import { createVerifier, fastifyAuth } from '../src/verify/index.js';

const verifier = createVerifier({
  issuer: process.env.RCAUTH_ISSUER ?? 'http://127.0.0.1:8080', // JWKS discovered from its metadata
  audience: process.env.RCAUTH_AUDIENCE ?? 'api://default',
});

const app = Fastify({ logger: true });
app.get('/health', async () => ({ ok: true })); // public
app.get('/me', { preHandler: fastifyAuth(verifier) }, async (request) => ({
  sub: request.auth?.sub,
  scopes: request.auth?.scp,
}));
app.get('/profile', { preHandler: fastifyAuth(verifier, { scope: 'profile' }) }, async (request) => ({ uid: request.auth?.uid }));

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
