// Uncaught C++ exception: a config loader throws and nobody catches.
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
__attribute__((noipa)) int load_setting(const std::map<std::string, int> &settings, const std::string &key) {
    auto it = settings.find(key);
    if (it == settings.end()) throw std::runtime_error("missing setting: " + key);
    return it->second;
}
int main(int argc, char **argv) {
    std::map<std::string, int> settings{{"threads", 4}};
    std::printf("%d\n", load_setting(settings, argc > 1 ? argv[1] : "timeout_ms"));
    return 0;
}
