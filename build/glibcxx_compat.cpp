// Compat shim for TorchSharp 0.107.0 on GCC-12-era systems (Debian 12, Ubuntu 22.04).
//
// libLibTorchSharp.so was linked against GCC >= 13's libstdc++ and so references
// std::ios_base_library_init() at symbol version GLIBCXX_3.4.32, which older libstdc++ lacks.
// In GCC 13 that function is empty: it only exists so that objects which include <iostream>
// pull in the libstdc++ that initialises the standard streams itself. This library exports the
// same symbol at the same version, and (because older libstdc++ relies on a static
// ios_base::Init object per translation unit instead) holds one such object, so the streams are
// ready before libLibTorchSharp.so's own constructors run.
#include <ios>

namespace std
{
    __attribute__((visibility("default"))) void ios_base_library_init() {}
}

static std::ios_base::Init evlf_stream_init;
