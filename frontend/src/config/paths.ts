export const paths = {
  signIn: '/sign-in',
  studies: '/',
  study: (id: number | string) => `/studies/${id}`,
} as const;
