export const paths = {
  signIn: '/sign-in',
  studies: '/',
  study: (id: number | string) => `/studies/${id}`,
  users: '/users',
  audit: '/audit',
  model: '/model',
  dicomNodes: '/dicom-nodes',
} as const;
