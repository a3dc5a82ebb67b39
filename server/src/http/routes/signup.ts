import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SignupAcceptedSchema, SignupBody, SignupVerifyQuery } from '@openlines/contract';
import type { AppContext } from '../../context';
import { requestSignup, verifySignup } from '../../services/signup';

/**
 * Self-service sign-up (services/signup), registered only with SIGNUP_ENABLED: without it the
 * routes do not exist. Public, and rate-limited per client IP.
 */
export const signupRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/signup',
    {
      config: {
        public: true,
        rateLimit: { max: ctx.config.signupRateLimitPerHour, timeWindow: '1 hour' },
      },
      schema: {
        tags: ['auth'],
        summary: 'Sign up a new account: a confirmation link is mailed to the address (SIGNUP_ENABLED)',
        body: SignupBody,
        response: { 202: SignupAcceptedSchema },
      },
    },
    async (request, reply) => reply.status(202).send(await requestSignup(ctx, request.body)),
  );

  app.get(
    '/signup/verify',
    {
      config: {
        public: true,
        rateLimit: { max: ctx.config.signupRateLimitPerHour * 4, timeWindow: '1 hour' },
      },
      schema: {
        tags: ['auth'],
        summary: 'The link of the confirmation e-mail: creates the account and redirects to the sign-in page',
        querystring: SignupVerifyQuery,
        response: { 303: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await verifySignup(ctx, request.query.token);
      return reply.redirect('/?signedUp=1', 303);
    },
  );
};
