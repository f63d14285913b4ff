'use strict'
// The suffix napi-rs gives this machine's binary and platform package (index.js loads
// `idp.<suffix>.node`, or the package `@idp/node-<suffix>`): linux-x64-gnu, darwin-arm64, ...
// Used by install.js and scripts/pack-npm.mjs.
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

module.exports = { platformSuffix }
