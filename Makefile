# A thin layer over Meson. `make` builds build/berth; `make run` serves on 127.0.0.1:5000 with data
# under ./var; `make test` builds an ASan+UBSan tree (build-asan/) and runs every test.
MESON ?= meson
DEPS_STAMP := build/.deps-ok

.PHONY: all deps run test unit integration bench lint clean

all: deps build/build.ninja
	ninja -C build

deps:
	@bash scripts/deps.sh

build/build.ninja:
	$(MESON) setup build --buildtype=release -Db_ndebug=if-release >/dev/null

build-asan/build.ninja:
	$(MESON) setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

run: all
	./build/berth serve --addr 127.0.0.1:5000 --data ./var

test: deps build-asan/build.ninja
	ninja -C build-asan
	bash tests/run.sh

bench: all
	@bash scripts/deps.sh --bench
	bash bench/run.sh

lint:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -I src --suppress=missingIncludeSystem src

clean:
	rm -rf build build-asan build-fuzz
