'use strict'
// @idp/plugin-scaffolder-backend-module-idp: idp's scaffolder actions for a Backstage backend.
//
//   backend.add(import('@idp/plugin-scaffolder-backend-module-idp'));
const { scaffolderModuleIdp } = require('./module')
const { createIdpActions, ACTIONS } = require('./actions')

module.exports = {
  default: scaffolderModuleIdp,
  scaffolderModuleIdp,
  createIdpActions,
  ACTIONS,
}
