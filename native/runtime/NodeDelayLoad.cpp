// Windows builds with MinGW (the win32-x64 prebuild): the addon imports Node-API from "node.exe"
// through a delay-load import library (CMakeLists.txt), and this hook answers that import with the
// process that loaded the addon. So the addon works in a renamed node.exe and in hosts that export
// Node-API themselves (Electron's executable, or node.dll where a host ships one), never loading a
// second copy of Node from disk. MSVC builds get the same hook from cmake-js.
#if defined(_WIN32) && defined(__MINGW32__)

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <delayimp.h>
#include <string.h>

namespace {

FARPROC WINAPI NodeImageHook(unsigned event, PDelayLoadInfo info) {
    if (event != dliNotePreLoadLibrary || info == nullptr || info->szDll == nullptr) return nullptr;
    if (_stricmp(info->szDll, "node.exe") != 0) return nullptr;
    HMODULE host = GetModuleHandleA("node.dll");
    if (host == nullptr) host = GetModuleHandleA(nullptr);
    return reinterpret_cast<FARPROC>(host);
}

}  // namespace

PfnDliHook __pfnDliNotifyHook2 = NodeImageHook;

#endif
