import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SignupAcceptedSchema, SignupBody, SignupVerifyQuery } from '@openlines/contract';
import type { AppContext } from '../../context';
import { requestSignup, signupLinkFailure, verifySignup } from '../../services/signup';

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
        summary:
          'The link of the confirmation e-mail: creates the account and redirects to the sign-in page (a browser is redirected there too when the link is invalid, expired or used)',
        querystring: SignupVerifyQuery,
        response: { 303: { type: 'null' } },
      },
    },
    async (request, reply) => {
      try {
        await verifySignup(ctx, request.query.token);
      } catch (error) {
        // A person opening the link from their mail gets the sign-in page saying what went wrong;
        // an API caller (no text/html in Accept) gets the problem document.
        const failure = request.headers.accept?.includes('text/html') ? signupLinkFailure(error) : null;
        if (!failure) throw error;
        return reply.redirect(`/?signupLink=${failure}`, 303);
      }
      return reply.redirect('/?signedUp=1', 303);
    },
  );
};
