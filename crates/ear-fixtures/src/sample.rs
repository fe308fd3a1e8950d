//! The bundled sample: `testdata/shop.ear` and `testdata/shop-fix.zip`.
//!
//! `shop.ear` is a small but realistic Java EE 7 application: two web
//! modules, an EJB module, a resource adapter, utility jars in `lib/`, and
//! application-scope `.dat` files. `shop-fix.zip` is a partial update shaped
//! like the worked example of spec §4, with delete lists in the application
//! scope and in a web module.

use crate::{Method, ZipBuilder, class_bytes, zip_of};

/// The module URIs of the sample, for unpacking it into the expanded form.
pub const SHOP_MODULES: [&str; 4] = [
    "catalog.war",
    "payments.rar",
    "shop-ejb.jar",
    "storefront.war",
];

const APPLICATION_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="http://xmlns.jcp.org/xml/ns/javaee"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             xsi:schemaLocation="http://xmlns.jcp.org/xml/ns/javaee http://xmlns.jcp.org/xml/ns/javaee/application_7.xsd"
             version="7">
  <display-name>Shop</display-name>
  <!-- the customer-facing store -->
  <module>
    <web>
      <web-uri>storefront.war</web-uri>
      <context-root>/shop</context-root>
    </web>
  </module>
  <module>
    <web>
      <web-uri>catalog.war</web-uri>
      <context-root>/catalog</context-root>
    </web>
  </module>
  <module>
    <ejb>shop-ejb.jar</ejb>
  </module>
  <module>
    <connector>payments.rar</connector>
  </module>
  <library-directory>lib</library-directory>
</application>
"#;

const MANIFEST: &str = "Manifest-Version: 1.0\r\nCreated-By: earpatch sample generator\r\n\r\n";

fn web_xml(name: &str, version: u32) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\">\n  \
         <display-name>{name}</display-name>\n  <!-- revision {version} -->\n  <welcome-file-list><welcome-file>index.jsp</welcome-file></welcome-file-list>\n</web-app>\n"
    )
}

fn jar(classes: &[&str], revision: u32) -> Vec<u8> {
    let mut b = ZipBuilder::new().file("META-INF/MANIFEST.MF", MANIFEST);
    for class in classes {
        let mut bytes = class_bytes(class);
        bytes.extend_from_slice(format!("rev{revision}").as_bytes());
        b = b.file(class, bytes);
    }
    b.finish()
}

fn storefront_war() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file("WEB-INF/web.xml", web_xml("storefront", 1))
        .file("WEB-INF/classes/com/acme/shop/web/CartServlet.class", class_bytes("CartServlet"))
        .file_with("WEB-INF/lib/shop-taglib.jar", jar(&["com/acme/shop/tags/PriceTag.class"], 1), Method::Store)
        .file("index.jsp", "<%@ page contentType=\"text/html\" %>\n<html><body>Welcome to the shop</body></html>\n")
        .file("cart.jsp", "<html><body>Your cart</body></html>\n")
        .file("css/shop.css", "body { font-family: sans-serif; }\n")
        .finish()
}

fn catalog_war() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file("WEB-INF/web.xml", web_xml("catalog", 1))
        .file("WEB-INF/test.xmi", "<xmi:XMI xmi:version=\"2.0\"/>\n")
        .file(
            "WEB-INF/classes/com/acme/catalog/Search.class",
            class_bytes("Search"),
        )
        .file(
            "catalog/list.jsp",
            "<html><body>All products</body></html>\n",
        )
        .file(
            "catalog/sub/detail.jsp",
            "<html><body>One product</body></html>\n",
        )
        .file("catalog/index.html", "<html><body>Catalog</body></html>\n")
        .file("data/stock.dat", "sku,qty\nA-1,10\n")
        .finish()
}

fn shop_ejb_jar() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file(
            "META-INF/ejb-jar.xml",
            "<?xml version=\"1.0\"?>\n<ejb-jar xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.2\"/>\n",
        )
        .file("com/acme/shop/OrderBean.class", class_bytes("OrderBean"))
        .file("com/acme/shop/OrderBean$1.class", class_bytes("OrderBean$1"))
        .finish()
}

fn payments_rar() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file(
            "META-INF/ra.xml",
            "<?xml version=\"1.0\"?>\n<connector xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"1.7\"/>\n",
        )
        .file_with("payments-impl.jar", jar(&["com/acme/pay/Gateway.class"], 1), Method::Store)
        .finish()
}

/// The sample application, `testdata/shop.ear`.
#[must_use]
pub fn shop_ear() -> Vec<u8> {
    ZipBuilder::new()
        .file("META-INF/MANIFEST.MF", MANIFEST)
        .file("META-INF/application.xml", APPLICATION_XML)
        .file("storefront.war", storefront_war())
        .file("catalog.war", catalog_war())
        .file("shop-ejb.jar", shop_ejb_jar())
        .file("payments.rar", payments_rar())
        .file("lib/util.jar", jar(&["com/acme/util/Strings.class"], 1))
        .file(
            "lib/shop-common.jar",
            jar(&["com/acme/common/Money.class"], 1),
        )
        .file("config/prices.dat", "A-1;19.90\nB-2;5.00\n")
        .file("config/tax/rates.dat", "DE;0.19\nFR;0.20\n")
        .file("a.dat", "legacy\n")
        .file(
            "tools/migrate.jar",
            jar(&["com/acme/tools/Migrate.class"], 1),
        )
        .file(
            "legal/NOTICE.txt",
            "Shop sample, made by earpatch's generator.\n",
        )
        .finish()
}

/// The sample partial update, `testdata/shop-fix.zip` (spec §4 shape).
#[must_use]
pub fn shop_fix_zip() -> Vec<u8> {
    zip_of(&[
        ("lib/util.jar", &jar(&["com/acme/util/Strings.class"], 2)),
        (
            "META-INF/ibm-partialapp-delete.props",
            b"# application scope: drop every data file and the migration tool\n.*\\.dat\ntools/migrate\\.jar\n",
        ),
        ("shop-ejb.jar/com/acme/shop/OrderBean.class", &{
            let mut b = class_bytes("OrderBean");
            b.extend_from_slice(b"fixed");
            b
        }),
        ("storefront.war/welcome.jsp", b"<html><body>Welcome back</body></html>\n"),
        ("storefront.war/WEB-INF/web.xml", web_xml("storefront", 2).as_bytes()),
        (
            "catalog.war/META-INF/ibm-partialapp-delete.props",
            b"catalog/.*\\.jsp\nWEB-INF/test\\.xmi\n",
        ),
    ])
}

/// The application of spec §4: modules `foo.jar` (EJB), `xyz.war` and
/// `webmod.war` (web); application-scope `util.jar`, `a.dat`, `conf/b.dat`,
/// `tools/test.jar`.
#[must_use]
pub fn worked_example_ear() -> Vec<u8> {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="http://java.sun.com/xml/ns/javaee" version="6">
  <module><ejb>foo.jar</ejb></module>
  <module><web><web-uri>xyz.war</web-uri><context-root>/xyz</context-root></web></module>
  <module><web><web-uri>webmod.war</web-uri><context-root>/webmod</context-root></web></module>
</application>
"#;
    ZipBuilder::new()
        .file("META-INF/application.xml", xml)
        .file(
            "foo.jar",
            zip_of(&[
                ("META-INF/ejb-jar.xml", b"<ejb-jar/>"),
                ("com/mycomp/Other.class", &class_bytes("Other")),
            ]),
        )
        .file(
            "xyz.war",
            zip_of(&[
                ("WEB-INF/web.xml", b"<web-app>1</web-app>"),
                ("index.jsp", b"index"),
            ]),
        )
        .file(
            "webmod.war",
            zip_of(&[
                ("com/test/x.jsp", b"x"),
                ("com/test/sub/y.jsp", b"y"),
                ("com/test/keep.html", b"keep"),
                ("WEB-INF/test.xmi", b"<xmi/>"),
                ("WEB-INF/web.xml", b"<web-app/>"),
                ("data/inside.dat", b"module data"),
            ]),
        )
        .file("util.jar", jar(&["com/acme/util/U.class"], 1))
        .file("a.dat", "a")
        .file("conf/b.dat", "b")
        .file("tools/test.jar", jar(&["com/acme/tools/T.class"], 1))
        .file("conf/keep.properties", "k=v")
        .finish()
}

/// The partial update of spec §4.
#[must_use]
pub fn worked_example_zip() -> Vec<u8> {
    zip_of(&[
        ("util.jar", &jar(&["com/acme/util/U.class"], 2)),
        (
            "META-INF/ibm-partialapp-delete.props",
            b".*.dat\ntools/test.jar\n",
        ),
        ("foo.jar/com/mycomp/xyz.class", &class_bytes("xyz")),
        ("xyz.war/welcome.jsp", b"welcome"),
        ("xyz.war/WEB-INF/web.xml", b"<web-app>2</web-app>"),
        (
            "webmod.war/META-INF/ibm-partialapp-delete.props",
            b"com/test/.*.jsp\nWEB-INF/test.xmi\n",
        ),
    ])
}

/// The module URIs of the worked example.
pub const WORKED_EXAMPLE_MODULES: [&str; 3] = ["foo.jar", "webmod.war", "xyz.war"];
