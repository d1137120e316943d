export const paths = {
  signIn: '/sign-in',
  // Registered at the hospital's provider as the redirect URI (CXR_OIDC_REDIRECT_URI).
  signInCallback: '/sign-in/callback',
  hospitalSignInStart: '/api/auth/oidc/authorize/',
  studies: '/',
  study: (id: number | string) => `/studies/${id}`,
  users: '/users',
  audit: '/audit',
  model: '/model',
  modelVersions: '/model-versions',
  dicomNodes: '/dicom-nodes',
  acceptance: '/acceptance',
  monitoring: '/monitoring',
} as const;
