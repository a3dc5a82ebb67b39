import { type Static, Type } from '@sinclair/typebox';
import { Email, Name } from './common';
import { PasswordSchema } from './users';

/** Self-service sign-up of a new account (hosted installations with SIGNUP_ENABLED; issue 21). */
export const SignupBody = Type.Object(
  {
    email: Email,
    password: PasswordSchema,
    name: Name,
    companyName: Name,
    language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('ru')])),
  },
  { additionalProperties: false },
);
export type SignupBody = Static<typeof SignupBody>;

export const SignupAcceptedSchema = Type.Object({
  status: Type.Literal('verification_sent'),
  /** How long the link in the e-mail works. */
  expiresInHours: Type.Integer(),
});
export type SignupAccepted = Static<typeof SignupAcceptedSchema>;

export const SignupVerifyQuery = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 4000 }) },
  { additionalProperties: false },
);

/** What the sign-in page may offer before anyone signs in (public). */
export const AuthOptionsSchema = Type.Object(
  {
    /** Self-service sign-up is on (SIGNUP_ENABLED): the page offers "Create an account". */
    signup: Type.Boolean(),
  },
  { title: 'AuthOptions' },
);
export type AuthOptions = Static<typeof AuthOptionsSchema>;
